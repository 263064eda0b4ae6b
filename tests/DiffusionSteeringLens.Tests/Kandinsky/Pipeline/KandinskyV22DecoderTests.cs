using DiffusionSteeringLens.Decoding;
using System.Diagnostics;
using DiffusionSteeringLens.Models.Kandinsky;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;
using Xunit.Abstractions;

namespace DiffusionSteeringLens.Tests.Kandinsky.Pipeline;

/// <summary>Behaviour of the public decoder API on the tiny golden components (real UNet and MoVQ).</summary>
public sealed class KandinskyV22DecoderTests
{
    private readonly ITestOutputHelper _output;

    public KandinskyV22DecoderTests(ITestOutputHelper output) => _output = output;

    /// <summary>A decoder folder in the diffusers layout assembled from the golden components.</summary>
    private static string DecoderFolder(bool withMovq = true)
    {
        var dir = Fixtures.TempFolder();
        void CopyDir(string from, string to)
        {
            Directory.CreateDirectory(to);
            foreach (var f in Directory.GetFiles(from).Where(f => !f.EndsWith("cases.safetensors", StringComparison.Ordinal)))
                File.Copy(f, Path.Combine(to, Path.GetFileName(f)));
        }
        CopyDir(Fixtures.Golden("unet"), Path.Combine(dir, "unet"));
        if (withMovq) CopyDir(Fixtures.Golden("movq"), Path.Combine(dir, "movq"));
        Directory.CreateDirectory(Path.Combine(dir, "scheduler"));
        File.Copy(Path.Combine(Fixtures.Golden("pipeline"), "scheduler_config.json"), Path.Combine(dir, "scheduler", "scheduler_config.json"));
        return dir;
    }

    private static KandinskyDecodeOptions Tiny(long seed = 7) =>
        new() { NumInferenceSteps = 4, GuidanceScale = 4.0, Height = 16, Width = 16, Seed = seed };

    /// <summary>
    /// The seed policy and batch independence: picture i of a call with per-picture seeds is bit for bit the picture
    /// decoded alone with that seed, in float32 as in float64, whatever else the call decodes (the decoder denoises
    /// every picture in one canonical layout). Order and neighbours do not matter either.
    /// </summary>
    [Theory]
    [InlineData(torch.ScalarType.Float64)]
    [InlineData(torch.ScalarType.Float32)]
    public void A_picture_is_bit_identical_whatever_else_the_call_decodes(torch.ScalarType dtype)
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder(), new DiffusionSteeringLens.Runtime.ModelLoadOptions { DType = dtype });
        torch.manual_seed(11);
        using var embeds = torch.randn(3, decoder.EmbeddingDim);
        using var negative = torch.randn(1, decoder.EmbeddingDim);
        var seeds = new long[] { 100, 101, 102 };
        using var batch = decoder.Decode(embeds, negative, Tiny() with { Seeds = seeds });
        Assert.Equal(new long[] { 3, 3, 16, 16 }, batch.shape);
        for (int i = 0; i < 3; i++)
        {
            using var one = embeds.narrow(0, i, 1);
            using var alone = decoder.Decode(one, negative, Tiny(seed: seeds[i]));
            using var row = batch.narrow(0, i, 1);
            TensorAssert.Equal(alone, row, $"{dtype}: picture {i} alone vs in a call of 3");
        }
        // Reversed order, with a different neighbour in front: the same bits per picture.
        using var order = torch.tensor(new long[] { 2, 1, 0 });
        using var reversed = embeds.index_select(0, order);
        using var back = decoder.Decode(reversed, negative, Tiny() with { Seeds = seeds.Reverse().ToArray() });
        using var backInOrder = back.index_select(0, order);
        TensorAssert.Equal(batch, backInOrder, $"{dtype}: reversed call");
        using var minimum = batch.min();
        using var maximum = batch.max();
        Assert.InRange(minimum.item<float>(), 0f, 1f);
        Assert.InRange(maximum.item<float>(), 0f, 1f);
    }

    /// <summary>
    /// <see cref="KandinskyDecodeOptions.PicturesPerBatch"/>: pictures denoised together are the pictures denoised alone
    /// up to summation order. In float64 the two layouts agree to 1e-12 (the sampling loop's 4 steps of a tiny UNet
    /// cannot lift a ~1e-16 reordering difference anywhere near that), while a wrong pairing of a picture with another's
    /// guidance half, noise or latents would move pixels by O(0.1). 3 pictures in batches of 2 also cover the remainder
    /// batch, and progress reports every step of every batch.
    /// </summary>
    [Fact]
    public void Batched_pictures_are_the_pictures_decoded_alone_up_to_summation_order()
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder(), new DiffusionSteeringLens.Runtime.ModelLoadOptions { DType = torch.ScalarType.Float64 });
        torch.manual_seed(12);
        using var embeds = torch.randn(3, decoder.EmbeddingDim);
        using var negative = torch.randn(1, decoder.EmbeddingDim);
        var seeds = new long[] { 100, 101, 102 };
        using var alone = decoder.Decode(embeds, negative, Tiny() with { Seeds = seeds });
        foreach (int perBatch in new[] { 2, 3, 8 })
        {
            var reports = new List<DiffusionSteeringLens.Decoding.DecodeProgress>();
            using var together = decoder.Decode(embeds, negative, Tiny() with { Seeds = seeds, PicturesPerBatch = perBatch }, SyncProgress.Create(reports.Add));
            Assert.Equal(alone.shape, together.shape);
            TensorAssert.CloseAbsolute(alone, together, 1e-12, $"{perBatch} pictures per batch vs alone");
            int batches = (3 + perBatch - 1) / perBatch;
            Assert.Equal(batches * 4, reports.Count);
            Assert.Equal(Enumerable.Range(0, batches).Select(b => b * perBatch), reports.Select(r => r.FirstImage).Distinct());
            Assert.Equal(1.0, reports[^1].Fraction, 12);
        }
        // Not the same picture in another row: swapping two embeddings swaps the batched pictures.
        using var order = torch.tensor(new long[] { 1, 0, 2 });
        using var reordered = embeds.index_select(0, order);
        using var swapped = decoder.Decode(reordered, negative,
            Tiny() with { Seeds = new long[] { 101, 100, 102 }, PicturesPerBatch = 3 });
        using var first = alone.narrow(0, 0, 1);
        using var moved = swapped.narrow(0, 1, 1);
        TensorAssert.CloseAbsolute(first, moved, 1e-12, "picture 0 decoded in row 1 of a batch");
    }

    /// <summary>
    /// Only the denoising is batched: the latent decoder (MoVQ) gets one picture per call, whose full-resolution feature
    /// maps are the largest tensors of a decode (batched MoVQ measured slower per picture and gigabytes larger at full
    /// size). So a batch of 3 makes 3 latent-decoder calls of one latent each, in picture order.
    /// </summary>
    [Fact]
    public void A_batched_decode_hands_the_latent_decoder_one_picture_at_a_time()
    {
        using var loaded = KandinskyV22Decoder.FromPretrained(DecoderFolder(), new DiffusionSteeringLens.Runtime.ModelLoadOptions { DType = torch.ScalarType.Float64 });
        var recorder = new RecordingLatentDecoder(loaded.LatentDecoder);
        using var batched = new KandinskyV22Decoder(loaded.Unet, loaded.Scheduler, recorder, ownsComponents: false);
        torch.manual_seed(13);
        using var embeds = torch.randn(3, loaded.EmbeddingDim);
        using var negative = torch.randn(1, loaded.EmbeddingDim);
        using var pictures = batched.Decode(embeds, negative, Tiny() with { Seeds = new long[] { 7, 8, 9 }, PicturesPerBatch = 3 });
        try
        {
            Assert.Equal(3, recorder.Inputs.Count);
            Assert.All(recorder.Inputs, latents => Assert.Equal(1, latents.shape[0]));
            for (int p = 0; p < 3; p++)
            {
                using var raw = (recorder.Outputs[p] * 0.5 + 0.5).clamp(0.0, 1.0).to(torch.ScalarType.Float32);
                using var row = pictures.narrow(0, p, 1);
                TensorAssert.CloseAbsolute(raw, row, 0.0, $"picture {p} is latent-decoder call {p}");
            }
        }
        finally
        {
            foreach (var t in recorder.Inputs.Concat(recorder.Outputs)) t.Dispose();
        }
    }

    [Fact]
    public void One_seed_gives_every_picture_the_same_noise()
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder());
        using var embeds = torch.ones(1, decoder.EmbeddingDim);
        using var twice = embeds.expand(2, -1);
        using var negative = torch.zeros(1, decoder.EmbeddingDim);
        using var pictures = decoder.Decode(twice, negative, Tiny(seed: 5));
        TensorAssert.Equal(pictures[0], pictures[1], "same embedding, same seed, rows 0 and 1");
    }

    [Fact]
    public void Seeds_must_match_the_embeddings()
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder());
        using var embeds = torch.ones(2, decoder.EmbeddingDim);
        using var negative = torch.zeros(1, decoder.EmbeddingDim);
        var e = Assert.Throws<ArgumentException>(() => decoder.Decode(embeds, negative, Tiny() with { Seeds = new long[] { 1, 2, 3 } }));
        Assert.Contains("3 seeds for 2 embeddings", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => decoder.Decode(embeds, negative, Tiny() with { Seeds = Array.Empty<long>() }));
    }

    [Fact]
    public void Same_seed_is_reproducible_and_another_seed_differs()
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder());
        using var embeds = torch.ones(1, decoder.EmbeddingDim);
        using var negative = torch.zeros(1, decoder.EmbeddingDim);
        using var a = decoder.Decode(embeds, negative, Tiny(seed: 1));
        using var b = decoder.Decode(embeds, negative, Tiny(seed: 1));
        using var c = decoder.Decode(embeds, negative, Tiny(seed: 2));
        TensorAssert.Equal(a, b, "same seed");
        using var diff = (a - c).abs().max();
        Assert.True(diff.item<float>() > 1e-3, "different seeds gave the same picture");
    }

    [Fact]
    public void Sizes_round_up_and_progress_is_reported_per_step()
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder());
        using var embeds = torch.ones(2, decoder.EmbeddingDim);
        using var negative = torch.zeros(2, decoder.EmbeddingDim);
        var reports = new List<DecodeProgress>();
        using var image = decoder.Decode(embeds, negative, Tiny() with { Height = 14, Width = 18 }, SyncProgress.Create(reports.Add));
        Assert.Equal(new long[] { 2, 3, 16, 20 }, image.shape);
        Assert.Equal(8, reports.Count);
        Assert.Equal(1.0, reports[^1].Fraction, 6);
        Assert.Equal(new long[] { 751, 501, 251, 1 }, reports.Take(4).Select(r => r.Timestep));
    }

    [Fact]
    public void Wrong_embedding_width_throws_naming_the_shape()
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder());
        using var wrong = torch.zeros(2, decoder.EmbeddingDim + 1);
        using var negative = torch.zeros(1, decoder.EmbeddingDim);
        var e = Assert.Throws<EmbeddingShapeException>(() => decoder.Decode(wrong, negative, Tiny()));
        Assert.Contains($"[2, {decoder.EmbeddingDim + 1}]", e.Message, StringComparison.Ordinal);
        using var good = torch.zeros(2, decoder.EmbeddingDim);
        using var badNegative = torch.zeros(3, decoder.EmbeddingDim);
        Assert.Throws<EmbeddingShapeException>(() => decoder.Decode(good, badNegative, Tiny()));
        Assert.Throws<ArgumentNullException>(() => decoder.Decode(good, null, Tiny()));
    }

    [Fact]
    public void Cancelled_token_throws_operation_cancelled()
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder());
        using var embeds = torch.zeros(1, decoder.EmbeddingDim);
        using var cts = new CancellationTokenSource();
        cts.Cancel();
        Assert.ThrowsAny<OperationCanceledException>(() => decoder.Decode(embeds, embeds, Tiny(), cancellationToken: cts.Token));
        // Cancelled mid-run: after the first reported step.
        using var midway = new CancellationTokenSource();
        Assert.ThrowsAny<OperationCanceledException>(() =>
            decoder.Decode(embeds, embeds, Tiny(), SyncProgress.Create(_ => midway.Cancel()), midway.Token));
    }

    [Fact]
    public void Missing_movq_is_refused_for_a_latent_unet()
    {
        var folder = DecoderFolder(withMovq: false);
        var e = Assert.Throws<DirectoryNotFoundException>(() => KandinskyV22Decoder.FromPretrained(folder));
        Assert.Contains("movq", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wall_time_of_two_tiny_embeddings()
    {
        using var decoder = KandinskyV22Decoder.FromPretrained(DecoderFolder());
        using var embeds = torch.ones(2, decoder.EmbeddingDim);
        using var negative = torch.zeros(1, decoder.EmbeddingDim);
        using (decoder.Decode(embeds, negative, Tiny())) { } // warm-up
        var watch = Stopwatch.StartNew();
        using var image = decoder.Decode(embeds, negative, Tiny());
        watch.Stop();
        _output.WriteLine($"2 embeddings, 4 steps, CFG 4, 16x16, {torch.get_num_threads()} threads: {watch.Elapsed.TotalMilliseconds:F1} ms");
        Assert.Equal(new long[] { 2, 3, 16, 16 }, image.shape);
        // Intra-op threads spin against each other on a loaded 2-core machine; one thread shows the compute cost alone.
        int threads = torch.get_num_threads();
        try
        {
            torch.set_num_threads(1);
            watch.Restart();
            using var single = decoder.Decode(embeds, negative, Tiny());
            watch.Stop();
            _output.WriteLine($"same, 1 thread: {watch.Elapsed.TotalMilliseconds:F1} ms");
        }
        finally
        {
            torch.set_num_threads(threads);
        }
    }
}
