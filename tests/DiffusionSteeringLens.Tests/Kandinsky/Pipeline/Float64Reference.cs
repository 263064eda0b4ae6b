using DiffusionSteeringLens.IO;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>
/// The reference pipeline's float64 outputs of a case (<c>reference_float64.safetensors</c> next to the case file: the
/// same diffusers loop, inputs and recorded noises, with weights and inputs in float64).
/// </summary>
internal sealed class Float64Reference : IDisposable
{
    public const string FileName = "reference_float64.safetensors";

    private Float64Reference(torch.Tensor finalLatents, torch.Tensor decodedRaw, torch.Tensor image)
    {
        FinalLatents = finalLatents;
        DecodedRaw = decodedRaw;
        Image = image;
    }

    public torch.Tensor FinalLatents { get; }
    public torch.Tensor DecodedRaw { get; }
    public torch.Tensor Image { get; }

    public static Float64Reference Load(PipelineCase c)
    {
        var file = Path.Combine(c.Case.Folder, FileName);
        Assert.True(File.Exists(file), $"{c.Case}: no float64 reference {file}.");
        using var f = SafetensorsFile.Open(file);
        torch.Tensor Load(string name)
        {
            using var raw = f.Load($"{c.Case.Name}.{name}");
            return raw.clone().DetachFromDisposeScope();
        }
        return new Float64Reference(Load("final_latents"), Load("decoded_raw"), Load("image"));
    }

    public void Dispose()
    {
        FinalLatents.Dispose();
        DecodedRaw.Dispose();
        Image.Dispose();
    }
}
