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
        EmbeddingRenderer renderer = (embeds, ct) =>
        {
            // Same seed for every picture: pictures of different targets differ only by their embeddings, and a picture
            // does not depend on its position in a batch (which --resume relies on).
            using var noise = new SeededNoiseSource(Enumerable.Repeat(s.Seed, (int)embeds.shape[0]).ToArray());
            var decodeOptions = new DecodeOptions
            {
                NumInferenceSteps = s.Steps,
                GuidanceScale = s.Guidance,
                Height = size,
                Width = size,
                BatchSize = s.BatchSize,
                NoiseSource = noise,
            };
            using var scope = torch.NewDisposeScope();
            var onDevice = embeds.to(encoder.DType, encoder.Device);
            var neg = negative.expand(embeds.shape[0], -1);
            var steps = new StepProgress(progress);
            var pictures = decoder.Decode(onDevice, neg, decodeOptions, steps, ct).to(torch.float32).cpu();
            // The decoder may round the size up to its granularity; pictures are compared at the requested size.
            if (pictures.shape[2] != size || pictures.shape[3] != size)
                pictures = torch.nn.functional.interpolate(pictures, new long[] { size, size }, mode: torch.InterpolationMode.Bilinear, align_corners: false, antialias: true);
            return pictures.clamp(0, 1).MoveToOuterDisposeScope();
        };
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
