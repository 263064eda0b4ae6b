using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit.HfLayout;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.Dinov2;

/// <summary>
/// HF <c>Dinov2Embeddings</c>: patch tokens with <c>cls_token</c> prepended, plus the position table bicubically
/// interpolated to the input's patch grid. Hooks <c>hook_embed</c> (tokens) and <c>hook_pos_embed</c> (the positions
/// actually added, batch-expanded). <c>mask_token</c> is loaded but unused (no masked-image modelling here).
/// </summary>
internal sealed class Dinov2Embeddings : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint keys.
    private readonly Parameter cls_token;
    private readonly Parameter mask_token;
    private readonly Parameter position_embeddings;
    private readonly HfPatchEmbeddings patch_embeddings;
    private readonly HookPoint hook_embed;
    private readonly HookPoint hook_pos_embed;
    private readonly int _patch;
    private readonly int _trainedSide;

    public Dinov2Embeddings(Dinov2Config config, HookRuntime runtime, Device device, ScalarType dtype) : base(nameof(Dinov2Embeddings))
    {
        _patch = config.PatchSize;
        _trainedSide = config.ImageSize / config.PatchSize;
        cls_token = nn.Parameter(torch.zeros(1, 1, config.HiddenSize, dtype: dtype, device: device));
        mask_token = nn.Parameter(torch.zeros(1, config.HiddenSize, dtype: dtype, device: device));
        position_embeddings = nn.Parameter(torch.zeros(1, config.NumPositions, config.HiddenSize, dtype: dtype, device: device));
        patch_embeddings = new HfPatchEmbeddings(config.NumChannels, config.HiddenSize, config.PatchSize, device, dtype);
        hook_embed = new HookPoint(HookNames.Embed, runtime);
        hook_pos_embed = new HookPoint(HookNames.PosEmbed, runtime);
        RegisterComponents();
    }

    /// <summary>Pixels [B, C, H, W] → embeddings [B, T, D] (the residual stream entering layer 0).</summary>
    public override Tensor forward(Tensor pixelValues)
    {
        var patches = patch_embeddings.call(pixelValues);
        long b = patches.shape[0];
        var tokens = hook_embed.call(torch.cat(new[] { cls_token.expand(b, -1, -1), patches }, 1));
        var positions = PositionsFor((int)pixelValues.shape[2], (int)pixelValues.shape[3]);
        return tokens + hook_pos_embed.call(positions.expand(b, -1, -1));
    }

    /// <summary>
    /// The position table [1, T, D] for an H×W input. As transformers 4.35 does it: the patch rows, as a grid, are
    /// resized by bicubic interpolation (align_corners false, in float32) with scale factors (grid + 0.1) / trained grid;
    /// the 0.1 keeps the output size from rounding down, and the factors (not the sizes) set the sampling positions.
    /// </summary>
    private Tensor PositionsFor(int height, int width)
    {
        int gridH = height / _patch, gridW = width / _patch;
        if (gridH == _trainedSide && gridW == _trainedSide) return position_embeddings;
        long d = position_embeddings.shape[2];
        var cls = position_embeddings.narrow(1, 0, 1);
        var grid = position_embeddings.narrow(1, 1, _trainedSide * _trainedSide)
            .reshape(1, _trainedSide, _trainedSide, d).permute(0, 3, 1, 2);
        var scale = new[] { (gridH + 0.1) / _trainedSide, (gridW + 0.1) / _trainedSide };
        var resized = nn.functional.interpolate(grid.to(ScalarType.Float32), scale_factor: scale,
            mode: InterpolationMode.Bicubic, align_corners: false).to(position_embeddings.dtype);
        if (resized.shape[2] != gridH || resized.shape[3] != gridW)
            throw new InvalidOperationException($"Interpolated position grid is {resized.shape[2]}x{resized.shape[3]}, expected {gridH}x{gridW}.");
        var patchRows = resized.permute(0, 2, 3, 1).reshape(1, (long)gridH * gridW, d);
        return torch.cat(new[] { cls, patchRows }, 1);
    }
}
