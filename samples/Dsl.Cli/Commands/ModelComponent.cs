using DiffusionSteeringLens.IO;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>One model component found in a folder, with its one-line description.</summary>
/// <param name="RelativePath">Folder relative to the inspected one (<c>.</c> for the folder itself).</param>
/// <param name="Family"><c>clip_vision</c>, <c>vit</c>, <c>dinov2</c>, <c>unet</c>, <c>movq</c> or <c>scheduler</c>.</param>
/// <param name="Details">Architecture facts read from the component's typed config.</param>
/// <param name="DType">Weight dtypes (e.g. <c>F32</c>), or <c>no weights</c>.</param>
/// <param name="Checkpoint">What <see cref="CheckpointSummary"/> reports for the folder (tensors, parameter count).</param>
internal sealed record ModelComponent(string RelativePath, string Family, string Details, string DType, CheckpointSummary Checkpoint);
