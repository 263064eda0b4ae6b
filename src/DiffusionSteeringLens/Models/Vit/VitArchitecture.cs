namespace DiffusionSteeringLens.Models.Vit;

/// <summary>Shape facts a lens needs about a ViT, independent of the model family.</summary>
/// <param name="Family">Model family: <c>clip_vision</c>, <c>vit</c> or <c>dinov2</c> (the config's <c>model_type</c> spelling).</param>
/// <param name="NumLayers">Transformer blocks.</param>
/// <param name="NumHeads">Attention heads per block.</param>
/// <param name="ModelDim">Residual width D.</param>
/// <param name="HeadDim">Width of one head.</param>
/// <param name="MlpDim">MLP hidden width.</param>
/// <param name="OutputDim">Width P of the output embedding the read-out produces.</param>
/// <param name="NumTokens">Tokens per image (patches + CLS).</param>
/// <param name="ClsIndex">Position of the CLS token.</param>
/// <param name="ImageSize">Input resolution (square).</param>
/// <param name="NumChannels">Input channels (3 for RGB).</param>
public sealed record VitArchitecture(string Family, int NumLayers, int NumHeads, int ModelDim, int HeadDim, int MlpDim,
    int OutputDim, int NumTokens, int ClsIndex, int ImageSize, int NumChannels = 3);
