using DiffusionSteeringLens.Models.Kandinsky.Unet;
using DiffusionSteeringLens.Tests.TestSupport;
using TorchSharp;

namespace DiffusionSteeringLens.Tests.Kandinsky.Unet;

/// <summary>
/// The UNet's attention splits its (batch·head) rows into chunks when their float32 scores would exceed
/// <see cref="AddedKVAttention.MaxScoreBytes"/> (so several pictures in one UNet batch never allocate the 404 MB score
/// temporaries that glibc maps fresh on every call). Rows are independent, so chunked attention must equal the one-chunk
/// attention: in float64 to 1e-12 (only summation order may differ, ~1e-16), while attending a row to another row's keys
/// would move outputs by O(0.1).
/// </summary>
public sealed class AddedKVAttentionChunkTests
{
    [Fact]
    public void Chunked_rows_equal_one_chunk()
    {
        using var scope = torch.NewDisposeScope();
        torch.manual_seed(21);
        // 64 channels in heads of 16 → 4 heads; batch 3 → 12 rows; 6×6 pixels and 2 context tokens → 36 × 38 scores.
        using var attention = new AddedKVAttention(64, 16, 24, 8, onlyCrossAttention: false, torch.CPU, torch.ScalarType.Float64);
        var pixels = torch.randn(3, 64, 6, 6, dtype: torch.ScalarType.Float64);
        var context = torch.randn(3, 2, 24, dtype: torch.ScalarType.Float64);
        using var _ = torch.no_grad();
        var whole = attention.call(pixels, context);
        long rowBytes = 36 * 38 * sizeof(float);
        // 5 rows per chunk: chunks of 5, 5, 2 (a remainder); 1 row per chunk: every row alone.
        foreach (long rowsPerChunk in new long[] { 5, 1 })
        {
            attention.ScoreChunkBytes = rowsPerChunk * rowBytes;
            var chunked = attention.call(pixels, context);
            TensorAssert.CloseAbsolute(whole, chunked, 1e-12, $"{rowsPerChunk} rows per chunk");
        }
        // A bound below one row still attends one row at a time.
        attention.ScoreChunkBytes = 1;
        TensorAssert.CloseAbsolute(whole, attention.call(pixels, context), 1e-12, "bound below one row");
    }

    /// <summary>
    /// Full-size Kandinsky 2.2 at 512 px: one guidance pair (UNet batch 2, the default decode) stays one chunk, so its
    /// numerics are unchanged; four pictures per UNet batch are chunked.
    /// </summary>
    [Fact]
    public void One_guidance_pair_at_512_px_is_one_chunk()
    {
        // The largest scores are at the 32² level: 768 channels in heads of 64 → 12 heads; queries are the 1,024 pixels,
        // keys the 32 image-projection tokens plus the 1,024 pixels.
        long rows = 2 * 12, rowBytes = 1024L * (32 + 1024) * sizeof(float);
        Assert.True(rows * rowBytes <= AddedKVAttention.MaxScoreBytes);
        Assert.True(4 * rows * rowBytes > AddedKVAttention.MaxScoreBytes); // four pictures per batch are chunked
    }
}
