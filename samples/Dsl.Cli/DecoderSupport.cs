using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;
using DiffusionSteeringLens.Runtime;
using DiffusionSteeringLens.Models.Kandinsky;
using TorchSharp;

namespace DiffusionSteeringLens.Cli;

/// <summary>Loads the Kandinsky 2.2 decoder and adapts it, through the library's <see cref="LensRenderer"/>, to an <see cref="EmbeddingRenderer"/>.</summary>
internal static class DecoderSupport
{
    /// <summary>Loads the decoder once; the returned factory gives a renderer for any decoder seed (same steps, guidance, size).</summary>
    public static (IDisposable Owner, Func<long, EmbeddingRenderer> RendererForSeed) Load(string folder, ModelLoadOptions options, IHookedVit encoder, int size,
        RunSettings s, IProgress<LensProgress> progress)
    {
        var decoder = KandinskyV22Decoder.FromPretrained(folder, options);
        if (decoder.EmbeddingDim != encoder.Architecture.OutputDim)
        {
            decoder.Dispose();
            throw new CliUsageException($"the decoder takes {decoder.EmbeddingDim}-wide embeddings but the encoder produces {encoder.Architecture.OutputDim}; use a matching encoder/decoder pair.");
        }
        var negative = KandinskyV22Decoder.ZeroImageEmbedding(encoder);
        var owner = new Owner(decoder, negative);
        // The one renderer: embeddings cast to the encoder's dtype and device, pictures resized to the requested size,
        // every picture of a sweep decoded with the sweep's one seed.
        var renderer = new LensRenderer(decoder)
        {
            Size = size, DType = encoder.DType, Device = encoder.Device, DecodeProgress = new StepProgress(progress),
        };
        EmbeddingRenderer ForSeed(long seed)
        {
            var decodeOptions = new KandinskyDecodeOptions
            {
                NumInferenceSteps = s.Steps, GuidanceScale = s.Guidance, Height = size, Width = size, Seed = seed, PicturesPerBatch = s.DenoiseBatch,
            };
            decodeOptions.Validate();
            return (embeddings, ct) => renderer.Decode(embeddings, negative, decodeOptions, ct);
        }
        ForSeed(s.Seed); // validates the settings now, before any work
        return (owner, ForSeed);
    }

    private sealed class StepProgress(IProgress<LensProgress> target) : IProgress<DecodeProgress>
    {
        public void Report(DecodeProgress p) =>
            target.Report(new LensProgress(ProgressDisplay.DenoiseStage, p.Step, p.TotalSteps));
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
