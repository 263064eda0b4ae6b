using DiffusionSteeringLens.IO;
using DiffusionSteeringLens.Models.Vit.ClipVision;
using DiffusionSteeringLens.Models.Vit.Dinov2;
using DiffusionSteeringLens.Models.Vit.ViT;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>Loads the tiny golden ViT and DINOv2 models the way a user would: model plus its folder's image processor.</summary>
internal static class FamilyGolden
{
    public static string VitFolder => Fixtures.Golden("vit");
    public static string Dinov2Folder => Fixtures.Golden("dinov2");

    public static ViTForImageClassification LoadVit(string? folder = null) => ViTForImageClassification.FromPretrained(folder ?? VitFolder);

    /// <summary>DINOv2 at the resolution its processor produces (the crop size, 20, larger than image_size 16 on purpose).</summary>
    public static Dinov2Model LoadDinov2(string? folder = null)
    {
        folder ??= Dinov2Folder;
        return Dinov2Model.FromPretrained(folder, inputSize: Processor(folder).Config.CropHeight);
    }

    public static ClipImageProcessor Processor(string folder) => new(ClipImageProcessorConfig.Load(folder));

    /// <summary>The golden batch input of a folder.</summary>
    public static torch.Tensor Pixels(string folder)
    {
        using var f = SafetensorsFile.Open(Path.Combine(folder, "cases.safetensors"));
        return f.Load("pixel_values");
    }

    /// <summary>One golden tensor of a folder.</summary>
    public static torch.Tensor Case(string folder, string name)
    {
        using var f = SafetensorsFile.Open(Path.Combine(folder, "cases.safetensors"));
        return f.Load(name);
    }

    /// <summary>One weight of a folder's checkpoint, read from the file (independent of the model's loader).</summary>
    public static torch.Tensor Weight(string folder, string name)
    {
        using var f = SafetensorsFile.Open(Path.Combine(folder, "model.safetensors"));
        return f.Load(name);
    }
}
