using System.Security.Cryptography;
using System.Text;
using DiffusionSteeringLens.Analysis;
using DiffusionSteeringLens.Decoding;
using DiffusionSteeringLens.Experiments;
using DiffusionSteeringLens.Imaging;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Models.Kandinsky.MoVq;
using DiffusionSteeringLens.Models.Kandinsky.Schedulers;
using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.Kandinsky.Pipeline;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Lenses;

/// <summary>
/// Issue 16, "one renderer": the roads that used to decode on their own — the studies' decoder adapter and PNG sweep
/// (the dsl tool and its demo), <see cref="LensRenderer"/>'s stream, and the trainer's direct decoder call with seeds
/// 7 + i — now all go through <see cref="LensRenderer"/>, and give the same bits as before. Each "old road" below is a
/// frozen copy of the code that was replaced, run on the tiny golden Kandinsky decoder.
/// </summary>
public sealed class OneRendererTests
{
    private static readonly KandinskyDecodeOptions Fast = new() { NumInferenceSteps = 3, GuidanceScale = 4, Height = 16, Width = 16, Seed = 40 };

    private static PaddedEmbeddingDecoder GoldenDecoder()
    {
        var unet = UNet2DConditionModel.FromPretrained(Fixtures.Golden("unet"));
        var movq = VqModel.FromPretrained(Fixtures.Golden("movq"));
        var scheduler = DdpmScheduler.FromPretrained(Path.Combine(Fixtures.Golden("scheduler"), "scheduler_config.json"));
        return new PaddedEmbeddingDecoder(new KandinskyV22Decoder(unet, scheduler, movq), inputDim: 24);
    }

    private static torch.Tensor Embeddings(int n, int seed) => torch.randn(new long[] { n, 24 }, generator: new torch.Generator((ulong)seed));

    /// <summary>Bit-for-bit equality of two float tensors (stricter than ==: −0 vs +0 and NaN payloads count).</summary>
    private static void BitIdentical(torch.Tensor expected, torch.Tensor actual, string label)
    {
        Assert.Equal(expected.shape, actual.shape);
        Assert.Equal(expected.dtype, actual.dtype);
        using var e = expected.contiguous();
        using var a = actual.contiguous();
        var eb = e.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
        var ab = a.data<float>().ToArray().Select(BitConverter.SingleToInt32Bits).ToArray();
        Assert.True(eb.SequenceEqual(ab), $"{label}: bits differ");
    }

    // ---- frozen copy of the replaced studies road: PictureSweep.DecoderRenderer + PictureSweep.Run's file writing ----

    private static Func<torch.Tensor, torch.Tensor> OldDecoderRenderer(IEmbeddingDecoder decoder, torch.Tensor negative, DecodeOptions options,
        int size, torch.ScalarType dtype, torch.Device device) => embeddings =>
    {
        using var scope = torch.NewDisposeScope();
        var onDevice = embeddings.to(dtype, device);
        var pictures = decoder.Decode(onDevice, negative, options, null, CancellationToken.None).to(torch.float32).cpu();
        if (pictures.shape[2] != size || pictures.shape[3] != size)
            pictures = torch.nn.functional.interpolate(pictures, new long[] { size, size }, mode: torch.InterpolationMode.Bilinear,
                align_corners: false, antialias: true);
        return pictures.clamp(0, 1).MoveToOuterDisposeScope();
    };

    private sealed record OldPictureRecord(string Label, string Fingerprint);

    private sealed record OldSweepManifest(IReadOnlyList<string> Completed);

    private static string OldFingerprint(torch.Tensor row, string settingsKey)
    {
        var floats = row.data<float>().ToArray();
        var bytes = new byte[floats.Length * sizeof(float)];
        Buffer.BlockCopy(floats, 0, bytes, 0, bytes.Length);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(bytes);
        sha.AppendData(Encoding.UTF8.GetBytes(settingsKey));
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }

    private static void OldSweep(string dir, Func<torch.Tensor, torch.Tensor> render, string key, int batchSize, IReadOnlyList<string> labels, torch.Tensor embeddings)
    {
        Directory.CreateDirectory(dir);
        using var rows = embeddings.detach().to(torch.float32).cpu().contiguous();
        var fingerprints = labels.Select((_, i) => { using var row = rows[i]; return OldFingerprint(row, key); }).ToArray();
        var done = new SortedSet<string>(StringComparer.Ordinal);
        ResultsWriter.WriteJson(Path.Combine(dir, "manifest.json"), new OldSweepManifest(done.ToArray()));
        for (int start = 0; start < labels.Count; start += batchSize)
        {
            var chunk = Enumerable.Range(start, Math.Min(batchSize, labels.Count - start)).ToArray();
            using var idx = torch.tensor(chunk.Select(i => (long)i).ToArray());
            using var batch = rows.index_select(0, idx);
            using var pictures = render(batch);
            for (int k = 0; k < chunk.Length; k++)
            {
                int i = chunk[k];
                ImageIO.SavePng(pictures, k, Path.Combine(dir, PictureSweep.Safe(labels[i]) + ".png"));
                ResultsWriter.WriteJson(Path.Combine(dir, PictureSweep.Safe(labels[i]) + ".json"), new OldPictureRecord(labels[i], fingerprints[i]));
                done.Add(labels[i]);
            }
            ResultsWriter.WriteJson(Path.Combine(dir, "manifest.json"), new OldSweepManifest(done.ToArray()));
        }
    }

    private static void SameFiles(string expectedDir, string actualDir)
    {
        var expected = Directory.GetFiles(expectedDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        var actual = Directory.GetFiles(actualDir).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray();
        Assert.Equal(expected, actual);
        foreach (var name in expected)
            Assert.True(File.ReadAllBytes(Path.Combine(expectedDir, name!)).SequenceEqual(File.ReadAllBytes(Path.Combine(actualDir, name!))),
                $"{name} differs from the old road's");
    }

    [Fact]
    public void SweepFilesAreByteIdenticalToTheOldDecoderAdapterAndPngSweep()
    {
        using var decoder = GoldenDecoder();
        using var negative = torch.zeros(1, 24);
        using var embeddings = Embeddings(5, 11);
        var labels = new[] { "h:0", "h:1", "mlp:2", "resid_post:3", "t4" };
        const string key = "decoder=golden;steps=3;guidance=4;size=12;seed=40;dtype=Float32";
        const int size = 12;   // the decoder returns 16 px: the adapter's resize is part of the road

        var oldDir = Path.Combine(Fixtures.TempFolder(), "s");
        OldSweep(oldDir, OldDecoderRenderer(decoder, negative, Fast, size, torch.ScalarType.Float32, torch.CPU), key, 2, labels, embeddings);
        int oldCalls = decoder.Calls;
        Assert.Equal(3, oldCalls);   // 5 pictures in batches of 2

        // The dsl tool's composition: the one renderer with fixed settings behind the studies' PNG sweep.
        var renderer = new LensRenderer(decoder) { Size = size, DType = torch.ScalarType.Float32, Device = torch.CPU };
        var cliDir = Fixtures.TempFolder();
        var sweep = new PictureSweep(cliDir, (e, ct) => renderer.Decode(e, negative, Fast, ct), key, batchSize: 2);
        using var cliPictures = sweep.Run("s", labels, embeddings);
        Assert.Equal(3, decoder.Calls - oldCalls);   // same decode batching
        SameFiles(oldDir, sweep.SweepFolder("s"));

        // The library call on the PNG folder store writes the same files too.
        var libDir = Fixtures.TempFolder();
        using (var store = PictureStore.InFolder(libDir))
        using (var libPictures = renderer.RenderSweep(store, "s", labels, embeddings, negative, Fast, key, batchSize: 2))
        {
            SameFiles(oldDir, Path.Combine(libDir, "s"));
            BitIdentical(cliPictures, libPictures, "library sweep vs CLI sweep");
        }

        // What is returned is what the old sweep read back from its PNGs; and the pictures are real, distinct pictures.
        using var expected = torch.stack(labels.Select(l =>
        {
            using var rgb = ImageIO.LoadRgb(Path.Combine(oldDir, PictureSweep.Safe(l) + ".png"));
            return ImageIO.ToFloatChw(rgb);
        }).ToArray(), 0);
        BitIdentical(expected, cliPictures, "pictures read back");
        Assert.Equal(new long[] { 5, 3, size, size }, cliPictures.shape);
        Assert.True((cliPictures[0] - cliPictures[1]).abs().max().item<float>() > 1e-2f, "different embeddings give different pictures");
    }

    [Fact]
    public void TrainerDecodeWithPerPictureSeedsIsBitIdenticalToTheDirectDecoderCall()
    {
        using var decoder = GoldenDecoder();
        using var negative = torch.zeros(1, 24);
        using var embeddings = Embeddings(3, 12);
        var trainerOptions = Fast with { Seed = 7 };
        var seeds = Enumerable.Range(0, 3).Select(i => trainerOptions.Seed + i).ToArray();

        // Old road (samples/Dsl.Train/EvalContext.Decode): the decoder called directly with Seeds = 7 + i.
        using var old = decoder.Decode(embeddings, negative, trainerOptions with { Seeds = seeds });
        var renderer = new LensRenderer(decoder);
        using var now = renderer.DecodeWithSeeds(embeddings, negative, seeds, trainerOptions);
        BitIdentical(old, now, "trainer pictures");

        // The policy's meaning: picture i is the shared-seed picture of its embedding under seed 7 + i, and the seed matters.
        using var second = embeddings.narrow(0, 1, 1);
        using var alone = renderer.Decode(second, negative, trainerOptions with { Seed = 8 });
        using var picture1 = now.narrow(0, 1, 1);
        BitIdentical(alone, picture1, "picture 1 = its embedding under seed 8");
        using var sharedSeed = renderer.Decode(second, negative, trainerOptions);
        Assert.True((sharedSeed - picture1).abs().max().item<float>() > 1e-3f, "seed 7 and seed 8 give different pictures");
    }

    [Fact]
    public void StreamedPicturesAreBitIdenticalToTheOldOneCallPerPictureRoad()
    {
        using var decoder = GoldenDecoder();
        using var negative = torch.zeros(1, 24);
        using var flat = Embeddings(4, 13);
        using var embeddings = flat.view(2, 2, 24);
        var targets = new LensTarget[] { new HeadTarget(0, 0), new MlpTarget(1) };

        // Old road (LensRenderer.RenderCore before the change): one decoder call per picture, the picture cloned out.
        var old = new List<torch.Tensor>();
        for (int i = 0; i < 2; i++)
            for (int t = 0; t < 2; t++)
            {
                using var scope = torch.NewDisposeScope();
                var decoded = decoder.Decode(embeddings[i, t].unsqueeze(0), negative, Fast, null, CancellationToken.None);
                old.Add(decoded[0].clone().MoveToOuterDisposeScope());
            }
        int before = decoder.Calls;
        var pictures = new LensRenderer(decoder).RenderEmbeddings(embeddings, negative, targets, Fast).ToList();
        try
        {
            Assert.Equal(4, decoder.Calls - before);
            Assert.Equal(new[] { 0, 0, 1, 1 }, pictures.Select(p => p.ImageIndex));
            for (int k = 0; k < 4; k++)
            {
                Assert.Equal(targets[k % 2], pictures[k].Target);
                BitIdentical(old[k], pictures[k].Picture, $"picture {k}");
            }
        }
        finally
        {
            foreach (var p in pictures) p.Dispose();
            foreach (var t in old) t.Dispose();
        }
    }

    /// <summary>
    /// A cheap deterministic decoder: [N, 3, 8, 8] = 1.5·sigmoid(linear(embedding) + seed/10) − 0.25 (so it overshoots
    /// [0, 1] and the clamp matters), with each row's seed from the options; counts the rows it decodes.
    /// </summary>
    private sealed class CountingDecoder : IEmbeddingDecoder
    {
        private readonly torch.Tensor _weights = torch.randn(new long[] { 6, 3 * 8 * 8 }, generator: new torch.Generator(3));

        public int EmbeddingDim => 6;
        public int Decoded { get; private set; }

        public void ResetCount(int decoded) => Decoded = decoded;

        public torch.Tensor Decode(torch.Tensor imageEmbeds, torch.Tensor? negativeImageEmbeds, DecodeOptions? options = null,
            IProgress<DecodeProgress>? progress = null, CancellationToken cancellationToken = default)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = (int)imageEmbeds.shape[0];
            Decoded += n;
            using var scope = torch.NewDisposeScope();
            var seeds = torch.tensor(Enumerable.Range(0, n).Select(i => (options?.SeedOf(i) ?? 0) / 10f).ToArray()).view(n, 1);
            var x = torch.sigmoid(torch.matmul(imageEmbeds.to(torch.float32), _weights) + seeds) * 1.5 - 0.25;
            return x.view(-1, 3, 8, 8).MoveToOuterDisposeScope();
        }

        public void Dispose() => _weights.Dispose();
    }

    [Fact]
    public void InMemoryStoreReusesFinishedPicturesAndReRendersChangedOnes()
    {
        using var decoder = new CountingDecoder();
        var renderer = new LensRenderer(decoder);
        using var embeddings = torch.randn(new long[] { 5, 6 }, generator: new torch.Generator(4));
        var labels = Enumerable.Range(0, 5).Select(i => $"p{i}").ToArray();
        var options = new DecodeOptions { Seed = 1 };
        using var store = PictureStore.InMemory();

        using var first = renderer.RenderSweep(store, "s", labels, embeddings, null, options, "k", batchSize: 2);
        Assert.Equal(5, decoder.Decoded);
        // The in-memory store returns the pictures as rendered (not quantised), batch by batch as the sweep decoded them.
        using (var scope = torch.NewDisposeScope())
        {
            var direct = torch.cat(new[] { (0, 2), (2, 2), (4, 1) }.Select(r => renderer.Decode(embeddings.narrow(0, r.Item1, r.Item2), null, options)).ToArray(), 0);
            BitIdentical(direct, first, "in-memory pictures are the rendered ones");
            var scaled = first * 255;
            Assert.True((scaled - scaled.round()).abs().max().item<float>() > 1e-3f, "not quantised to 8 bits");
        }
        decoder.ResetCount(5);

        using (var again = renderer.RenderSweep(store, "s", labels, embeddings, null, options, "k", batchSize: 2))
            BitIdentical(first, again, "reused pictures");
        Assert.Equal(5, decoder.Decoded);   // nothing decoded again

        embeddings[2].add_(1f);
        using (var changed = renderer.RenderSweep(store, "s", labels, embeddings, null, options, "k", batchSize: 2))
        {
            Assert.Equal(6, decoder.Decoded);   // only the changed row
            BitIdentical(first.narrow(0, 0, 2), changed.narrow(0, 0, 2), "unchanged rows");
            Assert.True((first[2] - changed[2]).abs().max().item<float>() > 1e-3f, "the changed row was re-rendered");
        }
        using (renderer.RenderSweep(store, "s", labels, embeddings, null, options, "other settings", batchSize: 2)) { }
        Assert.Equal(11, decoder.Decoded);   // a new settings key re-renders everything

        // Pictures saved inside a caller's dispose scope are the store's own: they outlive the scope.
        using (var scope = torch.NewDisposeScope())
            renderer.RenderSweep(store, "scoped", labels.Take(2).ToArray(), embeddings.narrow(0, 0, 2), null, options, "k");
        using (var kept = store.Load("scoped", labels.Take(2).ToArray()))
            Assert.Equal(new long[] { 2, 3, 8, 8 }, kept.shape);
        store.Dispose();
        Assert.Throws<ObjectDisposedException>(() => store.Load("s", labels));
    }

    [Fact]
    public void FolderStoreResumesAnInterruptedRenderWithTheSamePictures()
    {
        using var decoder = new CountingDecoder();
        var renderer = new LensRenderer(decoder);
        using var embeddings = torch.randn(new long[] { 5, 6 }, generator: new torch.Generator(5));
        var labels = Enumerable.Range(0, 5).Select(i => $"head:{i}").ToArray();
        var options = new DecodeOptions { Seed = 2 };
        using var whole = renderer.RenderSweep(PictureStore.InFolder(Fixtures.TempFolder()), "s", labels, embeddings, null, options, batchSize: 2);
        Assert.Equal(5, decoder.Decoded);
        // Quantised to 8 bits: the pictures were read back from the PNGs.
        using (var scaled = whole * 255)
            Assert.True(scaled.round().sub(scaled).abs().max().item<float>() < 1e-4f);

        var dir = Fixtures.TempFolder();
        using var cts = new CancellationTokenSource();
        var progress = new SyncProgress<LensProgress>(p => { if (p.Completed >= 2) cts.Cancel(); });
        Assert.ThrowsAny<OperationCanceledException>(() =>
            renderer.RenderSweep(PictureStore.InFolder(dir), "s", labels, embeddings, null, options, batchSize: 2, progress: progress, cancellationToken: cts.Token));
        Assert.Equal(2, Directory.GetFiles(Path.Combine(dir, "s"), "*.png").Length);

        int before = decoder.Decoded;
        using var resumed = renderer.RenderSweep(PictureStore.InFolder(dir, resume: true), "s", labels, embeddings, null, options, batchSize: 2);
        Assert.Equal(3, decoder.Decoded - before);
        BitIdentical(whole, resumed, "resumed vs uninterrupted");
        Assert.True(File.Exists(Path.Combine(dir, "s", "head_4.png")));
    }

    [Fact]
    public void EveryRoadStatesItsSeedPolicyAndRefusesTheOther()
    {
        using var decoder = new CountingDecoder();
        var renderer = new LensRenderer(decoder);
        using var embeddings = torch.randn(2, 6);
        using var negative = torch.zeros(1, 6);
        var perPicture = new DecodeOptions { Seeds = new long[] { 1, 2 } };
        var labels = new[] { "a", "b" };
        var targets = new LensTarget[] { new HeadTarget(0, 0) };
        using var threeD = embeddings.view(2, 1, 6);

        Assert.Contains("DecodeWithSeeds", Assert.Throws<ArgumentException>(() => renderer.Decode(embeddings, negative, perPicture)).Message);
        Assert.Throws<ArgumentException>(() => renderer.RenderSweep(PictureStore.InMemory(), "s", labels, embeddings, negative, perPicture));
        Assert.Throws<ArgumentException>(() => renderer.RenderEmbeddings(threeD, negative, targets, perPicture));
        Assert.Contains("one seed per embedding", Assert.Throws<ArgumentException>(() => renderer.DecodeWithSeeds(embeddings, negative, new long[] { 1 })).Message);
        Assert.Throws<ArgumentException>(() => renderer.DecodeWithSeeds(embeddings, negative, new long[] { 1, 2 }, perPicture));
        using var perRow = torch.zeros(2, 6);
        Assert.Contains("[1, 6]", Assert.Throws<ArgumentException>(() => renderer.RenderSweep(PictureStore.InMemory(), "s", labels, embeddings, perRow)).Message);
        Assert.Equal(0, decoder.Decoded);   // nothing was decoded

        // Shared seed: equal embeddings give equal pictures wherever they sit; per-picture seeds: picture i uses seed i.
        using var twice = embeddings.narrow(0, 0, 1).expand(2, -1).contiguous();
        using var shared = renderer.Decode(twice, negative, new DecodeOptions { Seed = 3 });
        BitIdentical(shared[0], shared[1], "shared seed");
        using var seeded = renderer.DecodeWithSeeds(twice, negative, new long[] { 3, 4 });
        BitIdentical(shared[0], seeded[0], "seed 3 either way");
        Assert.True((seeded[0] - seeded[1]).abs().max().item<float>() > 1e-3f, "seeds 3 and 4 differ");
    }

    [Fact]
    public void RendererSettingsCastResizeAndClamp()
    {
        using var decoder = new CountingDecoder();
        using var embeddings = torch.randn(new long[] { 3, 6 }, generator: new torch.Generator(6)).mul(10);
        var renderer = new LensRenderer(decoder) { Size = 5, DType = torch.ScalarType.Float64 };
        using var pictures = renderer.Decode(embeddings, null, new DecodeOptions { Seed = -1 });
        Assert.Equal(new long[] { 3, 3, 5, 5 }, pictures.shape);
        Assert.Equal(torch.ScalarType.Float32, pictures.dtype);
        Assert.Equal(0f, pictures.min().item<float>());
        Assert.Equal(1f, pictures.max().item<float>());
        // The old adapter's formula on the raw decoder output: resize (bilinear, antialiased), then clamp.
        using var raw = decoder.Decode(embeddings, null, new DecodeOptions { Seed = -1 });
        Assert.True(raw.min().item<float>() < 0 && raw.max().item<float>() > 1, "the decoder overshoots, so the clamp is exercised");
        using var expected = torch.nn.functional.interpolate(raw, new long[] { 5, 5 }, mode: torch.InterpolationMode.Bilinear,
            align_corners: false, antialias: true).clamp(0, 1);
        BitIdentical(expected, pictures, "resized and clamped like the old adapter");
        Assert.Throws<ArgumentOutOfRangeException>(() => new LensRenderer(decoder) { Size = 0 });
    }

    [Fact]
    public void OverlayPairOwnsAndDisposesItsTensors()
    {
        var a = torch.zeros(2, 3, 4, 4);
        var b = torch.ones(2, 3, 4, 4);
        var pair = new OverlayPair(a, b);
        Assert.IsAssignableFrom<IDisposable>(pair);
        pair.Dispose();
        Assert.True(a.IsInvalid);
        Assert.True(b.IsInvalid);
    }
}
