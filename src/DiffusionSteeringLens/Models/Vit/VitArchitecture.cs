namespace DiffusionSteeringLens.Models.Vit;

/// <summary>Shape facts a lens needs about a ViT, independent of the model family.</summary>
/// <param name="Family">Model family, e.g. <c>clip_vision</c>.</param>
/// <param name="NumLayers">Transformer blocks.</param>
/// <param name="NumHeads">Attention heads per block.</param>
/// <param name="ModelDim">Residual width D.</param>
/// <param name="HeadDim">Width of one head.</param>
/// <param name="MlpDim">MLP hidden width.</param>
/// <param name="OutputDim">Width P of the output embedding the read-out produces.</param>
/// <param name="NumTokens">Tokens per image (patches + CLS).</param>
/// <param name="ClsIndex">Position of the CLS token.</param>
/// <param name="ImageSize">Input resolution (square).</param>
public sealed record VitArchitecture(string Family, int NumLayers, int NumHeads, int ModelDim, int HeadDim, int MlpDim,
    int OutputDim, int NumTokens, int ClsIndex, int ImageSize);
