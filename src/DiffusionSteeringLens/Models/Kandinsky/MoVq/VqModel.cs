using DiffusionSteeringLens.Models.Kandinsky.Layers;
using System.Text.RegularExpressions;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.MoVq;

/// <summary>
/// diffusers <c>VQModel</c> — MoVQ, Kandinsky 2.2's image autoencoder. The field tree mirrors the reference, so a
/// diffusers checkpoint loads by exact key names. For sampling only <see cref="Decode(Tensor)"/> is needed
/// (<c>post_quant_conv</c> + decoder, no codebook lookup).
/// </summary>
internal sealed class VqModel : nn.Module<Tensor, Tensor>, ILatentImageDecoder
{
    // Field names are the checkpoint's key segments.
    private readonly Encoder encoder;
    private readonly Conv2d quant_conv;
    private readonly VectorQuantizer quantize;
    private readonly Conv2d post_quant_conv;
    private readonly Decoder decoder;

    private static readonly Regex LegacyAttentionKey =
        new(@"^(?<prefix>.*\.attentions\.\d+\.)(?<name>query|key|value|proj_attn)\.(?<param>weight|bias)$", RegexOptions.CultureInvariant);

    /// <summary>Builds the model with placeholder weights.</summary>
    /// <param name="config">Model config.</param>
    /// <param name="device">Device of every parameter; <c>meta</c> builds the tree without allocating storage. Null = CPU.</param>
    /// <param name="dtype">Parameter dtype.</param>
    public VqModel(VqModelConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32) : base(nameof(VqModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        Device = device ?? CPU;
        DType = dtype;
        int vqDim = config.EffectiveVqEmbedDim;
        encoder = new Encoder(config, Device, dtype);
        quant_conv = KandinskyLayers.Conv2d(config.LatentChannels, vqDim, 1, Device, dtype);
        quantize = new VectorQuantizer(config.NumVqEmbeddings, vqDim, Device, dtype);
        post_quant_conv = KandinskyLayers.Conv2d(vqDim, config.LatentChannels, 1, Device, dtype);
        decoder = new Decoder(config, Device, dtype);
        RegisterComponents();
        // Inference model: no autograd graph unless the caller's inputs ask for one.
        eval();
        foreach (var p in parameters()) p.requires_grad = false;
    }

    /// <summary>The config the model was built from.</summary>
    public VqModelConfig Config { get; }

    /// <summary>Device of the weights.</summary>
    public Device Device { get; }

    /// <summary>Dtype of the weights.</summary>
    public ScalarType DType { get; }

    /// <inheritdoc />
    public int ScaleFactor => Config.ScaleFactor;

    /// <inheritdoc />
    public int LatentChannels => Config.LatentChannels;

    /// <summary>
    /// Loads <c>config.json</c> and <c>diffusion_pytorch_model.safetensors</c> (single or sharded) from a folder such as
    /// the decoder repo's <c>movq/</c>. Both attention key spellings load: <c>to_q/to_k/to_v/to_out.0</c> and the older
    /// <c>query/key/value/proj_attn</c>.
    /// </summary>
    /// <exception cref="ConfigException">A bad or unsupported config value.</exception>
    /// <exception cref="StateDictMismatchException">The checkpoint does not match the config.</exception>
    public static VqModel FromPretrained(string folder, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelLoadOptions.Default;
        var config = VqModelConfig.Load(folder);
        var model = new VqModel(config, options.Device, options.DType);
        try
        {
            using var source = CheckpointLocator.Open(folder, "diffusion_pytorch_model");
            StateDictLoader.Load(model, source, new StateDictLoadOptions { RenameCheckpointKey = RenameLegacyKey, ModuleName = "VQModel (MoVQ)" });
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Maps the deprecated attention-block spelling (<c>query</c>, <c>key</c>, <c>value</c>, <c>proj_attn</c>) to the current one.</summary>
    public static string RenameLegacyKey(string checkpointKey)
    {
        ArgumentNullException.ThrowIfNull(checkpointKey);
        var m = LegacyAttentionKey.Match(checkpointKey);
        if (!m.Success) return checkpointKey;
        var name = m.Groups["name"].Value switch
        {
            "query" => "to_q",
            "key" => "to_k",
            "value" => "to_v",
            _ => "to_out.0",
        };
        return $"{m.Groups["prefix"].Value}{name}.{m.Groups["param"].Value}";
    }

    /// <summary>Encodes images [B, in, H, W] (≈[−1, 1]) to unquantised latents [B, vq_dim, H/sf, W/sf] (after <c>quant_conv</c>).</summary>
    public Tensor Encode(Tensor image)
    {
        ArgumentNullException.ThrowIfNull(image);
        CheckInput(image, Config.InChannels, "image");
        using var scope = NewDisposeScope();
        // Feature maps run channels-last on CPU (CpuConv2d); callers get the usual contiguous NCHW layout.
        return CpuConv2d.Forward(quant_conv, encoder.call(image)).contiguous().MoveToOuterDisposeScope();
    }

    /// <summary>Nearest codebook vectors and their indices.</summary>
    /// <returns>Quantised latents [B, D, h, w] and indices [B, h, w] (int64); the caller owns both.</returns>
    public (Tensor Quantized, Tensor Indices) Quantize(Tensor latents)
    {
        ArgumentNullException.ThrowIfNull(latents);
        return quantize.Quantize(latents);
    }

    /// <summary>Decodes latents into an image (unclamped, ≈[−1, 1]).</summary>
    /// <param name="latents">[B, vq_dim, h, w].</param>
    /// <param name="forceNotQuantize">
    /// True decodes the latents as they are (what the Kandinsky pipeline does); false snaps them to the codebook first.
    /// </param>
    /// <returns>[B, out, h·sf, w·sf].</returns>
    public Tensor Decode(Tensor latents, bool forceNotQuantize)
    {
        ArgumentNullException.ThrowIfNull(latents);
        CheckInput(latents, Config.EffectiveVqEmbedDim, "latents");
        using var scope = NewDisposeScope();
        var quant = latents;
        if (!forceNotQuantize)
        {
            var (quantized, indices) = quantize.Quantize(latents);
            indices.Dispose();
            quant = quantized;
        }
        var quant2 = CpuConv2d.Forward(post_quant_conv, quant);
        // MoVQ's spatial norms are conditioned on the latent before post_quant_conv.
        var image = decoder.call(quant2, Config.IsSpatialNorm ? quant : null);
        return image.contiguous().MoveToOuterDisposeScope();   // NCHW for the caller (feature maps ran channels-last)
    }

    /// <summary>Decodes without quantising (the Kandinsky 2.2 pipeline's call).</summary>
    public Tensor Decode(Tensor latents) => Decode(latents, forceNotQuantize: true);

    /// <summary>Autoencodes: decode(quantise(encode(image))).</summary>
    public override Tensor forward(Tensor image)
    {
        using var scope = NewDisposeScope();
        var latents = Encode(image);
        return Decode(latents, forceNotQuantize: false).MoveToOuterDisposeScope();
    }

    private void CheckInput(Tensor x, int channels, string name)
    {
        if (x.dim() != 4 || x.shape[1] != channels)
            throw new ArgumentException($"expected {name} [B, {channels}, H, W], got [{string.Join(", ", x.shape)}].", name);
    }
}
