using DiffusionSteeringLens.Models.Kandinsky.Layers;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// Spatial self-attention with extra keys/values from context tokens — diffusers <c>Attention</c> as the
/// SimpleCrossAttn blocks configure it, run by <c>AttnAddedKVProcessor</c>. Parameters <c>group_norm, to_q, to_k,
/// to_v, add_k_proj, add_v_proj, to_out.0</c>.
/// </summary>
/// <remarks>
/// Queries come from the group-normed pixels; keys/values are the projected context tokens followed by the
/// pixels' own keys/values (context first). Scores are softmaxed in float32 (the reference's <c>upcast_softmax</c>).
/// The output is projected, reshaped back to [B, C, H, W] and added to the un-normed input.
/// </remarks>
internal sealed class AddedKVAttention : nn.Module<Tensor, Tensor, Tensor>
{
    private readonly GroupNorm group_norm;
    private readonly Linear to_q;
    private readonly Linear? to_k;
    private readonly Linear? to_v;
    private readonly Linear add_k_proj;
    private readonly Linear add_v_proj;
    // A list so the key is "to_out.0"; the reference's to_out.1 is a weight-free dropout (identity at inference).
    private readonly ModuleList<Linear> to_out;
    private readonly int _heads;
    private readonly int _headDim;
    private readonly double _scale;

    /// <summary>Creates the attention layer.</summary>
    /// <param name="channels">Channels of the feature map (query width and output width).</param>
    /// <param name="headDim">Channels per head; heads = channels / headDim.</param>
    /// <param name="contextDim">Width of the context tokens (<c>added_kv_proj_dim</c>).</param>
    /// <param name="groups">Groups of <c>group_norm</c>.</param>
    /// <param name="onlyCrossAttention">Attend to the context tokens only (no <c>to_k</c>/<c>to_v</c>).</param>
    /// <param name="device">Device of the weights.</param>
    /// <param name="dtype">Dtype of the weights.</param>
    public AddedKVAttention(int channels, int headDim, int contextDim, int groups, bool onlyCrossAttention, Device device, ScalarType dtype)
        : base(nameof(AddedKVAttention))
    {
        if (channels % headDim != 0)
            throw new ArgumentException($"{channels} channels are not divisible by head size {headDim}.", nameof(headDim));
        _heads = channels / headDim;
        _headDim = headDim;
        _scale = Math.Pow(headDim, -0.5);
        // Attention's own eps (1e-5) is used here, not the UNet's norm_eps: the blocks never pass it on.
        group_norm = KandinskyLayers.GroupNorm(groups, channels, 1e-5, device, dtype);
        to_q = KandinskyLayers.Linear(channels, channels, device, dtype);
        if (!onlyCrossAttention)
        {
            to_k = KandinskyLayers.Linear(channels, channels, device, dtype);
            to_v = KandinskyLayers.Linear(channels, channels, device, dtype);
        }
        add_k_proj = KandinskyLayers.Linear(contextDim, channels, device, dtype);
        add_v_proj = KandinskyLayers.Linear(contextDim, channels, device, dtype);
        to_out = new ModuleList<Linear>(KandinskyLayers.Linear(channels, channels, device, dtype));
        RegisterComponents();
    }

    /// <summary>Number of heads.</summary>
    public int Heads => _heads;

    /// <summary>[B, C, H, W] feature map and [B, T, contextDim] context → [B, C, H, W].</summary>
    public override Tensor forward(Tensor hiddenStates, Tensor context)
    {
        using var scope = torch.NewDisposeScope();
        long b = hiddenStates.shape[0], c = hiddenStates.shape[1];
        var residual = hiddenStates;
        // GroupNorm over channels of the (B, C, HW) view, then tokens (B, HW, C).
        var normed = group_norm.call(hiddenStates.reshape(b, c, -1)).transpose(1, 2);

        var query = SplitHeads(to_q.call(normed));
        var key = SplitHeads(add_k_proj.call(context));
        var value = SplitHeads(add_v_proj.call(context));
        if (to_k is not null && to_v is not null)
        {
            key = torch.cat(new[] { key, SplitHeads(to_k.call(normed)) }, dim: 1);
            value = torch.cat(new[] { value, SplitHeads(to_v.call(normed)) }, dim: 1);
        }

        var attended = MergeHeads(Attend(query, key, value), b);

        var projected = to_out[0].call(attended);
        var output = projected.transpose(-1, -2).reshape(residual.shape) + residual;
        return output.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Largest float32 score matrix computed at once. Above it the (batch·head) rows are attended in chunks: at 512 px
    /// the 32² level's scores are 104 MB per guidance pair (4.3 MB per row: 1,024 queries × 32 + 1,024 keys), so four
    /// pictures in one UNet batch made 415 MB temporaries twice per layer. Blocks from 128 MiB up are mapped fresh on every call even with
    /// <c>TorchNativeLoader.EnableMemoryReuse</c>, and under memory pressure each fresh huge page can stall in the
    /// kernel's compaction; below this bound they come from the reused heap. Rows are independent, and a call within
    /// the bound (one guidance pair at 512 px, every test model) runs exactly as one chunk.
    /// </summary>
    internal const long MaxScoreBytes = 120L << 20;

    /// <summary>The bound this layer chunks at (<see cref="MaxScoreBytes"/>; tests lower it to chunk a tiny model).</summary>
    internal long ScoreChunkBytes { get; set; } = MaxScoreBytes;

    // softmax(scale·q kᵀ) v over (rows, Lq, d) × (rows, Lk, d), in chunks of rows whose float32 scores fit MaxScoreBytes.
    private Tensor Attend(Tensor query, Tensor key, Tensor value)
    {
        long rows = query.shape[0];
        long rowBytes = query.shape[1] * key.shape[1] * sizeof(float);
        long perChunk = Math.Max(1, ScoreChunkBytes / rowBytes);
        if (perChunk >= rows) return AttendChunk(query, key, value);
        var chunks = new List<Tensor>();
        for (long start = 0; start < rows; start += perChunk)
        {
            long n = Math.Min(perChunk, rows - start);
            chunks.Add(AttendChunk(query.narrow(0, start, n), key.narrow(0, start, n), value.narrow(0, start, n)));
        }
        return torch.cat(chunks, 0);
    }

    private Tensor AttendChunk(Tensor query, Tensor key, Tensor value)
    {
        // The reference computes scale·(q kᵀ) with one baddbmm (beta 0). TorchSharp 0.107's torch.baddbmm(input, b1, b2)
        // does not follow PyTorch's operand order (its native shim treats the receiver as batch1), so: bmm, then scale.
        using var scope = torch.NewDisposeScope();
        var dtype = query.dtype;
        var scores = torch.bmm(query, key.transpose(-1, -2)).mul_(_scale);
        var probs = scores.to(ScalarType.Float32).softmax(-1).to(dtype);
        return torch.bmm(probs, value).MoveToOuterDisposeScope();
    }

    // (B, L, heads·d) → (B·heads, L, d)
    private Tensor SplitHeads(Tensor x)
    {
        long b = x.shape[0], l = x.shape[1];
        return x.reshape(b, l, _heads, _headDim).permute(0, 2, 1, 3).reshape(b * _heads, l, _headDim);
    }

    // (B·heads, L, d) → (B, L, heads·d)
    private Tensor MergeHeads(Tensor x, long batch)
    {
        long l = x.shape[1];
        return x.reshape(batch, _heads, l, _headDim).permute(0, 2, 1, 3).reshape(batch, l, _heads * _headDim);
    }
}
