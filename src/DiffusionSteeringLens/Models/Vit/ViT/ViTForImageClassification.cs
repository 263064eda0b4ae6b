using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Models.Vit.ViT;

/// <summary>
/// Hugging Face <c>ViTForImageClassification</c> with TransformerLens-style hook points. State-dict keys equal the
/// checkpoint's (<c>vit.embeddings…</c>, <c>vit.encoder.layer.{i}.attention.attention.query…</c>, <c>vit.layernorm</c>,
/// <c>classifier</c>).
/// </summary>
/// <remarks>
/// The output embedding is the class logits [B, K] = <c>classifier(layernorm(last_hidden_state)[:, 0])</c>, so the
/// read-out (final LayerNorm then classifier) turns any residual-stream vector into class logits: the Diffusion Lens on
/// this family is a Logit Lens, and <see cref="Lenses.LogitLens"/> with the identity as label matrix (dot products)
/// reports those logits under the class names of <see cref="Labels"/>. <c>ln_pre</c> is the embeddings output (ViT has
/// no pre-norm); <c>ln_final</c> is the final LayerNorm of the CLS row; <c>hook_image_embeds</c> holds the logits.
/// </remarks>
public sealed class ViTForImageClassification : HookedVitModel
{
    private readonly ViTModel vit;
    private readonly Linear classifier;
    private readonly HookPoint hook_ln_final;
    private readonly HookPoint hook_image_embeds;

    /// <summary>Builds the model with uninitialised weights (on the META device nothing is allocated).</summary>
    public ViTForImageClassification(VitConfig config, torch.Device? device = null, ScalarType dtype = ScalarType.Float32)
        : base(nameof(ViTForImageClassification), device, dtype)
    {
        ArgumentNullException.ThrowIfNull(config);
        Config = config;
        vit = new ViTModel(config, Runtime, Device, dtype);
        classifier = nn.Linear(config.HiddenSize, config.Labels.Count, hasBias: true, device: Device, dtype: dtype);
        hook_ln_final = new HookPoint(HookNames.LnFinal, Runtime);
        hook_image_embeds = new HookPoint(HookNames.ImageEmbeds, Runtime);
        RegisterComponents();
        CompleteSetup(new VitArchitecture("vit", config.NumHiddenLayers, config.NumAttentionHeads, config.HiddenSize, config.HeadDim,
            config.IntermediateSize, config.Labels.Count, config.NumPositions, 0, config.ImageSize, config.NumChannels));
    }

    /// <summary>
    /// Loads a Hugging Face folder: <c>config.json</c> plus <c>model.safetensors</c> (or a sharded index). Every missing,
    /// unexpected or mis-shaped key is reported; floating checkpoints convert to the compute dtype.
    /// </summary>
    /// <exception cref="ConfigException">Bad config.json.</exception>
    /// <exception cref="StateDictMismatchException">The weights do not fit the config.</exception>
    public static ViTForImageClassification FromPretrained(string folder, ModelLoadOptions? options = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(folder);
        options ??= ModelLoadOptions.Default;
        var model = new ViTForImageClassification(VitConfig.Load(folder), torch.META, options.DType);
        return LoadWeights(model, folder, new StateDictLoadOptions { ModuleName = "ViTForImageClassification" }, options.Device);
    }

    /// <summary>The config the model was built from.</summary>
    public VitConfig Config { get; }

    /// <summary>Class names by logit index (<c>id2label</c>).</summary>
    public IReadOnlyList<string> Labels => Config.Labels;

    /// <summary>W_O of a layer [D, H·d]. The live parameter: do not modify.</summary>
    public Tensor OutProjWeight(int layer) => vit.Layers[layer].Attention.OutProjWeight;

    /// <summary>b_O of a layer [D]. The live parameter: do not modify.</summary>
    public Tensor OutProjBias(int layer) => vit.Layers[layer].Attention.OutProjBias;

    /// <summary>The final LayerNorm over a whole sequence [B, T, D] (HF's <c>last_hidden_state</c> from the last resid_post).</summary>
    internal Tensor FinalNorm(Tensor hidden)
    {
        using var _ = no_grad();
        return vit.FinalLayerNorm.call(hidden.to(DType, Device));
    }

    /// <inheritdoc />
    protected override Tensor ReadoutCore(Tensor residual) => classifier.call(vit.FinalLayerNorm.call(residual));

    /// <inheritdoc />
    protected override LayerNorm ReadoutNorm => vit.FinalLayerNorm;

    /// <inheritdoc />
    protected override double ReadoutNormEps => Config.LayerNormEps;

    /// <inheritdoc />
    protected override Tensor ReadoutHead(Tensor normalised) => classifier.call(normalised);

    /// <inheritdoc />
    protected override Tensor ForwardCore(Tensor pixelValues)
    {
        var hidden = vit.call(pixelValues);
        // The LayerNorm is per token, so normalising only the CLS row equals HF's layernorm(sequence)[:, 0].
        var pooled = hook_ln_final.call(vit.FinalLayerNorm.call(hidden.select(1, 0)));
        return hook_image_embeds.call(classifier.call(pooled));
    }
}
