using DiffusionSteeringLens.Models.Kandinsky.Layers;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Runtime;
using Microsoft.Extensions.Logging;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Kandinsky.Unet;

/// <summary>
/// The Kandinsky 2.2 decoder UNet: diffusers <c>UNet2DConditionModel</c> with <c>addition_embed_type = "image"</c>
/// and <c>encoder_hid_dim_type = "image_proj"</c>, built from its config with state-dict keys identical to the
/// reference's. Inference only.
/// </summary>
/// <remarks>
/// The image embedding is used twice: <c>add_embedding</c> adds it to the timestep embedding, and
/// <c>encoder_hid_proj</c> turns it into the cross-attention context tokens.
/// </remarks>
public sealed class UNet2DConditionModel : nn.Module, IImageConditionedUNet
{
    private readonly Conv2d conv_in;
    private readonly Timesteps time_proj;
    private readonly TimestepEmbedding time_embedding;
    private readonly ImageProjection encoder_hid_proj;
    private readonly ImageTimeEmbedding add_embedding;
    private readonly ModuleList<UNetDownBlock> down_blocks;
    private readonly ModuleList<UNetUpBlock> up_blocks;
    private readonly UNetMidBlock2DSimpleCrossAttn mid_block;
    private readonly GroupNorm conv_norm_out;
    private readonly Conv2d conv_out;
    // Parameter-free hook points outside the blocks (the blocks hold their own): no state-dict entries.
    private readonly HookPoint hook_t_emb;
    private readonly HookPoint hook_time_embedding;
    private readonly HookPoint hook_aug_emb;
    private readonly HookPoint hook_encoder_hidden_states;
    private readonly HookPoint hook_conv_in;
    private readonly HookPoint hook_conv_norm_out;
    private readonly HookPoint hook_conv_out;
    private readonly HookRuntime _runtime = new();
    private readonly IReadOnlyList<string> _hookNames;
    private readonly HashSet<string> _hookNameSet;
    private readonly int _downsampleFactor;

    /// <summary>Builds the model with freshly initialised weights (or, on the meta device, without any storage).</summary>
    /// <param name="config">The architecture; validated here.</param>
    /// <param name="device">Device of the weights; <c>torch.META</c> builds shapes only.</param>
    /// <param name="dtype">Floating dtype of the weights and of the computation.</param>
    /// <exception cref="ArgumentException">The config is unsupported or inconsistent.</exception>
    public UNet2DConditionModel(UNet2DConditionConfig config, Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(UNet2DConditionModel))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate();
        if (dtype is not (ScalarType.Float32 or ScalarType.Float64 or ScalarType.Float16 or ScalarType.BFloat16))
            throw new ArgumentException($"dtype must be a floating type, found {dtype}.", nameof(dtype));
        device ??= torch.CPU;
        Config = config;
        Device = device;
        DType = dtype;

        var ch = config.BlockOutChannels;
        int n = ch.Length;
        int timeEmbedDim = config.TimeEmbedDim;
        int context = config.CrossAttentionDim;
        int imageDim = config.EncoderHidDim!.Value;

        conv_in = KandinskyLayers.Conv2d(config.InChannels, ch[0], config.ConvInKernel, device, dtype);
        time_proj = new Timesteps(ch[0], config.FlipSinToCos, config.FreqShift);
        time_embedding = new TimestepEmbedding(ch[0], timeEmbedDim, config.TimestepPostAct is not null, device, dtype);
        encoder_hid_proj = new ImageProjection(imageDim, context, config.NumImageTextEmbeds, device, dtype);
        add_embedding = new ImageTimeEmbedding(imageDim, timeEmbedDim, device, dtype);

        var resnet = ResnetBlockSettings.TimeConditioned(timeEmbedDim, config.NormNumGroups, config.NormEps,
            config.ResnetTimeScaleShift == "scale_shift", config.ResnetSkipTimeAct, config.ResnetOutScaleFactor, device, dtype);

        // Block types were checked against UNetBlockTypes by Validate: Find cannot miss here.
        var downs = new UNetDownBlock[n];
        for (int i = 0; i < n; i++)
        {
            var level = new UNetLevel(i == 0 ? ch[0] : ch[i - 1], 0, ch[i], config.LayersPerBlock[i], i < n - 1,
                config.AttentionHeadDim[i], context, config.OnlyCrossAttention, resnet, UNetHookNames.DownBlock(i), _runtime);
            downs[i] = UNetBlockTypes.Find(UNetBlockTypes.Down, config.DownBlockTypes[i])!.Create(level);
        }
        down_blocks = new ModuleList<UNetDownBlock>(downs);

        mid_block = new UNetMidBlock2DSimpleCrossAttn(ch[n - 1], 1, config.AttentionHeadDim[n - 1], context,
            config.MidBlockOnlyCrossAttention ?? config.OnlyCrossAttention, resnet.WithOutputScaleFactor(config.MidBlockScaleFactor), _runtime);

        var ups = new UNetUpBlock[n];
        int prev = ch[n - 1];
        for (int i = 0; i < n; i++)
        {
            int output = ch[n - 1 - i];
            // Quirk kept from the reference: up block i takes attention_head_dim[i], NOT the reversed list that
            // every other per-level setting of the up path uses (equal entries make this moot for Kandinsky).
            var level = new UNetLevel(ch[Math.Max(n - 2 - i, 0)], prev, output, config.LayersPerBlock[n - 1 - i] + 1, i < n - 1,
                config.AttentionHeadDim[i], context, config.OnlyCrossAttention, resnet, UNetHookNames.UpBlock(i), _runtime);
            ups[i] = UNetBlockTypes.Find(UNetBlockTypes.Up, config.UpBlockTypes[i])!.Create(level);
            prev = output;
        }
        up_blocks = new ModuleList<UNetUpBlock>(ups);

        conv_norm_out = KandinskyLayers.GroupNorm(config.NormNumGroups, ch[0], config.NormEps, device, dtype);
        conv_out = KandinskyLayers.Conv2d(ch[0], config.OutChannels, config.ConvOutKernel, device, dtype);
        hook_t_emb = new HookPoint(UNetHookNames.TimestepFeatures, _runtime);
        hook_time_embedding = new HookPoint(UNetHookNames.TimeEmbedding, _runtime);
        hook_aug_emb = new HookPoint(UNetHookNames.ImageTimeEmbedding, _runtime);
        hook_encoder_hidden_states = new HookPoint(UNetHookNames.Context, _runtime);
        hook_conv_in = new HookPoint(UNetHookNames.ConvIn, _runtime);
        hook_conv_norm_out = new HookPoint(UNetHookNames.ConvNormOut, _runtime);
        hook_conv_out = new HookPoint(UNetHookNames.ConvOut, _runtime);
        _hookNames = new[] { UNetHookNames.TimestepFeatures, UNetHookNames.TimeEmbedding, UNetHookNames.ImageTimeEmbedding, UNetHookNames.Context, UNetHookNames.ConvIn }
            .Concat(downs.SelectMany(b => b.Hooks.NamesInForwardOrder()))
            .Concat(mid_block.Hooks.NamesInForwardOrder())
            .Concat(ups.SelectMany(b => b.Hooks.NamesInForwardOrder()))
            .Concat(new[] { UNetHookNames.ConvNormOut, UNetHookNames.ConvOut })
            .ToArray();
        _hookNameSet = new HashSet<string>(_hookNames, StringComparer.Ordinal);
        _downsampleFactor = 1 << (n - 1);
        RegisterComponents();
    }

    /// <summary>The architecture this model was built from.</summary>
    public UNet2DConditionConfig Config { get; }

    /// <inheritdoc />
    public int InChannels => Config.InChannels;

    /// <inheritdoc />
    public int OutChannels => Config.OutChannels;

    /// <inheritdoc />
    public int ImageEmbedDim => Config.EncoderHidDim!.Value;

    /// <inheritdoc />
    public Device Device { get; private set; }

    /// <inheritdoc />
    public ScalarType DType { get; }

    /// <summary>
    /// Every hook point, in the order a forward pass reaches it: <c>t_emb</c> (sinusoidal timestep features, float32),
    /// <c>time_embedding</c>, <c>aug_emb</c>, <c>encoder_hidden_states</c> (context tokens), <c>conv_in</c>; inside each
    /// <c>down_blocks.i</c>, <c>mid_block</c> and <c>up_blocks.i</c> the outputs <c>….resnets.j</c>,
    /// <c>….attentions.j</c>, <c>….downsamplers.0</c> / <c>….upsamplers.0</c>, then the block's own output; finally
    /// <c>conv_norm_out</c> (before the SiLU) and <c>conv_out</c>. Names are the modules' state-dict paths.
    /// </summary>
    public IReadOnlyList<string> HookPointNames => _hookNames;

    /// <summary>Spatial sizes of the sample must be multiples of this (2 per down-sampling level).</summary>
    public int SpatialMultiple => _downsampleFactor;

    /// <summary>
    /// Loads a diffusers UNet folder: <c>config.json</c> and <c>diffusion_pytorch_model.safetensors</c> (or its sharded
    /// index). Every checkpoint key must match the model exactly.
    /// </summary>
    /// <param name="folder">The <c>unet</c> folder of a Kandinsky 2.2 decoder.</param>
    /// <param name="options">Device and dtype; CPU float32 by default.</param>
    /// <exception cref="ConfigException">config.json has a bad or unsupported value.</exception>
    /// <exception cref="StateDictMismatchException">The weights do not fit the config (lists every bad key).</exception>
    /// <exception cref="FileNotFoundException">No config or weights.</exception>
    public static UNet2DConditionModel FromPretrained(string folder, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelLoadOptions.Default;
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"UNet folder not found: {Path.GetFullPath(folder)}");
        var config = UNet2DConditionConfig.Load(folder);
        using var source = CheckpointLocator.Open(folder, "diffusion_pytorch_model");
        // Built on meta (no random initialisation of 1.2 B weights about to be overwritten), checked strictly, then every
        // parameter is allocated in the compute dtype and streamed from the file, so peak memory is the compute-dtype
        // weights plus one chunk whatever the file's dtype.
        var model = new UNet2DConditionModel(config, torch.META, options.DType);
        try
        {
            int count = MetaParameters.AllocateAndLoad(model, source, new StateDictLoadOptions { ModuleName = nameof(UNet2DConditionModel) },
                options.Device, options.DType);
            model.Device = options.Device;
            model.eval();
            options.LoggerFactory?.CreateLogger<UNet2DConditionModel>()
                .LogInformation("Loaded UNet2DConditionModel: {Count} tensors from {Path} ({Device}, {DType})", count, source.SourcePath, options.Device, options.DType);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <inheritdoc />
    /// <remarks>Runs without gradient tracking; see <see cref="Forward"/> for the one in the ambient grad mode.</remarks>
    public Tensor Predict(Tensor sample, Tensor timestep, Tensor imageEmbeds)
    {
        using var _ = torch.no_grad();
        return Forward(sample, timestep, imageEmbeds);
    }

    /// <summary>
    /// <see cref="Forward"/> with hook functions bound to named points (<see cref="HookPointNames"/>) for this call only:
    /// each function sees the point's activation and returns the tensor the model continues with (return its input to
    /// only observe). A hook on a down block's output changes what the next block receives, not the skip tensors.
    /// </summary>
    /// <remarks>
    /// The activation belongs to the forward pass and is disposed when it ends: to keep it, copy it out of the dispose
    /// scope, e.g. <c>t.detach().clone().DetachFromDisposeScope()</c>. Runs in the ambient grad mode.
    /// </remarks>
    /// <param name="sample">Noisy sample [B, InChannels, H, W].</param>
    /// <param name="timestep">Scalar, [1] or [B] timestep.</param>
    /// <param name="imageEmbeds">[B, ImageEmbedDim].</param>
    /// <param name="hooks">Bindings; several on one point run in order.</param>
    /// <returns>[B, OutChannels, H, W]; the caller owns it.</returns>
    /// <exception cref="ArgumentException">A binding names a point this model does not have, or shapes do not fit.</exception>
    public Tensor RunWithHooks(Tensor sample, Tensor timestep, Tensor imageEmbeds, IReadOnlyList<HookBinding> hooks)
    {
        ArgumentNullException.ThrowIfNull(hooks);
        foreach (var binding in hooks)
        {
            ArgumentNullException.ThrowIfNull(binding, nameof(hooks));
            if (!_hookNameSet.Contains(binding.HookName))
                throw new ArgumentException($"'{binding.HookName}' is not a hook point of this UNet (see HookPointNames, e.g. '{UNetHookNames.ConvIn}', '{UNetHookNames.MidBlock}').", nameof(hooks));
        }
        using var state = new HookRunState(hooks, null, null, Device);
        using var run = _runtime.Begin(state);
        return Forward(sample, timestep, imageEmbeds);
    }

    /// <summary>
    /// One denoiser evaluation in the ambient grad mode (hooks bound by <see cref="RunWithHooks"/> fire; none otherwise).
    /// </summary>
    /// <param name="sample">Noisy sample [B, InChannels, H, W]; H and W multiples of <see cref="SpatialMultiple"/>.</param>
    /// <param name="timestep">Scalar, [1] or [B] timestep (raw scheduler values, integer or floating).</param>
    /// <param name="imageEmbeds">[B, ImageEmbedDim].</param>
    /// <returns>[B, OutChannels, H, W] in <see cref="DType"/> on <see cref="Device"/>; the caller owns it.</returns>
    /// <exception cref="ArgumentException">Shapes do not fit the model.</exception>
    /// <exception cref="InvalidOperationException">The model was built on the meta device.</exception>
    public Tensor Forward(Tensor sample, Tensor timestep, Tensor imageEmbeds)
    {
        ArgumentNullException.ThrowIfNull(sample);
        ArgumentNullException.ThrowIfNull(timestep);
        ArgumentNullException.ThrowIfNull(imageEmbeds);
        if (Device.type == DeviceType.META)
            throw new InvalidOperationException("this model was built on the meta device (shapes only) and cannot run; build it on a real device or use FromPretrained.");
        CheckInputs(sample, timestep, imageEmbeds);
        long batch = sample.shape[0];

        using var scope = torch.NewDisposeScope();
        var x = sample.to(DType, Device);
        var image = imageEmbeds.to(DType, Device);
        if (Config.CenterInputSample) x = 2 * x - 1.0;

        var timesteps = timestep.dim() == 0 ? timestep.unsqueeze(0) : timestep;
        timesteps = timesteps.to(Device).expand(batch);
        var tEmb = hook_t_emb.call(time_proj.call(timesteps));
        var emb = hook_time_embedding.call(time_embedding.call(tEmb.to(DType)));
        var aug = hook_aug_emb.call(add_embedding.call(image));
        emb = emb + aug;
        if (Config.TimeEmbeddingActFn is not null) emb = nn.functional.silu(emb);

        var context = hook_encoder_hidden_states.call(encoder_hid_proj.call(image));

        var h = hook_conv_in.call(CpuConv2d.Forward(conv_in, x));
        var skips = new List<Tensor> { h };
        foreach (var block in down_blocks) h = block.Forward(h, emb, context, skips);
        h = mid_block.Forward(h, emb, context);
        foreach (var block in up_blocks) h = block.Forward(h, emb, context, skips);
        if (skips.Count != 0) throw new InvalidOperationException($"{skips.Count} skip tensors were left unused (down and up paths do not match).");

        h = hook_conv_norm_out.call(conv_norm_out.call(h));
        h = hook_conv_out.call(ConvOut(nn.functional.silu(h)));
        // Feature maps run channels-last on CPU (CpuConv2d); callers get the usual contiguous NCHW layout.
        return h.contiguous().MoveToOuterDisposeScope();
    }

    // Few-channel output conv: like every conv of the model, it runs around libtorch CPU defects (CpuConv2d).
    private Tensor ConvOut(Tensor x) => CpuConv2d.Forward(conv_out, x);

    private void CheckInputs(Tensor sample, Tensor timestep, Tensor imageEmbeds)
    {
        if (sample.dim() != 4 || sample.shape[1] != InChannels)
            throw new ArgumentException($"sample must be [B, {InChannels}, H, W], found [{string.Join(", ", sample.shape)}].", nameof(sample));
        long batch = sample.shape[0], height = sample.shape[2], width = sample.shape[3];
        if (height % _downsampleFactor != 0 || width % _downsampleFactor != 0)
            throw new ArgumentException(
                $"sample height and width must be multiples of {_downsampleFactor} (one halving per down-sampling level), found {height}×{width}.", nameof(sample));
        if (imageEmbeds.dim() != 2 || imageEmbeds.shape[0] != batch || imageEmbeds.shape[1] != ImageEmbedDim)
            throw new ArgumentException($"imageEmbeds must be [{batch}, {ImageEmbedDim}], found [{string.Join(", ", imageEmbeds.shape)}].", nameof(imageEmbeds));
        bool timestepOk = timestep.dim() == 0 || (timestep.dim() == 1 && (timestep.shape[0] == batch || timestep.shape[0] == 1));
        if (!timestepOk)
            throw new ArgumentException($"timestep must be a scalar, [1] or [{batch}], found [{string.Join(", ", timestep.shape)}].", nameof(timestep));
        if (timestep.dtype == ScalarType.Bool || timestep.is_complex())
            throw new ArgumentException($"timestep must be an integer or floating tensor, found {timestep.dtype}.", nameof(timestep));
    }
}
