using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Models.Kandinsky;
using TorchSharp;

namespace DiffusionSteeringLens.Cli;

/// <summary>Loads the Kandinsky 2.2 decoder and adapts it to an <see cref="EmbeddingRenderer"/>.</summary>
internal static class DecoderSupport
{
    public static (IDisposable Owner, EmbeddingRenderer Renderer) Load(string folder, ModelLoadOptions options, IHookedVit encoder, int size,
        RunSettings s, IProgress<StudyProgress> progress)
    {
        var decoder = KandinskyV22Decoder.FromPretrained(folder, options);
        if (decoder.EmbeddingDim != encoder.Architecture.OutputDim)
        {
            decoder.Dispose();
            throw new CliUsageException($"the decoder takes {decoder.EmbeddingDim}-wide embeddings but the encoder produces {encoder.Architecture.OutputDim}; use a matching encoder/decoder pair.");
        }
        var negative = encoder.ZeroImageEmbedding();
        var owner = new Owner(decoder, negative);
        var decodeOptions = new KandinskyDecodeOptions { NumInferenceSteps = s.Steps, GuidanceScale = s.Guidance, Height = size, Width = size, Seed = s.Seed };
        var renderer = DecoderEmbeddingRenderer.Create(decoder, negative, decodeOptions, size, encoder.DType, encoder.Device, new StepProgress(progress));
        return (owner, renderer);
    }

    private sealed class StepProgress(IProgress<StudyProgress> target) : IProgress<DecodeProgress>
    {
        public void Report(DecodeProgress p) =>
            target.Report(new StudyProgress(ProgressDisplay.DenoiseStage, p.Step, p.TotalSteps));
    }

    private sealed class Owner(IEmbeddingDecoder decoder, torch.Tensor negative) : IDisposable
    {
        public void Dispose()
        {
            negative.Dispose();
            decoder.Dispose();
        }
    }
}
