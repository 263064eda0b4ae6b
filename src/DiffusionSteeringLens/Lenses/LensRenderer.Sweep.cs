using System.Security.Cryptography;
using System.Text;
using DiffusionSteeringLens.Decoding;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace DiffusionSteeringLens.Lenses;

public sealed partial class LensRenderer
{
    /// <summary>
    /// Renders (or reuses) one picture per label with the shared seed, keeping each batch in <paramref name="store"/> as
    /// soon as it is decoded, so that an interrupted render resumes without redoing finished pictures.
    /// </summary>
    /// <param name="store">Where finished pictures are kept (<see cref="PictureStore.InFolder"/>, <see cref="PictureStore.InMemory"/>
    /// or your own); borrowed.</param>
    /// <param name="sweep">Name of this set of pictures in the store (e.g. a folder).</param>
    /// <param name="labels">One unique label per embedding row.</param>
    /// <param name="embeddings">[N, P] embeddings (borrowed).</param>
    /// <param name="negative">[1, P] unconditional embedding for guidance (shared by every batch), or null for a decoder
    /// that does not guide.</param>
    /// <param name="options">Sampling settings; <see cref="DecodeOptions.Seeds"/> must be null.</param>
    /// <param name="settingsKey">Everything besides the embedding that determines a picture (decoder and its weights,
    /// steps, guidance, size, seed…), part of each picture's fingerprint. Null builds one from the decoder's type, the
    /// options and this renderer's size, dtype and device; pass your own when different weights can sit behind the same
    /// decoder type.</param>
    /// <param name="batchSize">Embeddings per decoder call (≥ 1); each batch is stored when it completes.</param>
    /// <param name="progress">Reports after each stored batch (stage <c>decode {sweep}</c>).</param>
    /// <param name="cancellationToken">Checked before each batch and inside the decoder; finished batches stay stored.</param>
    /// <returns>Every label's picture, [N, 3, H, W] as the store returns them; the caller owns the tensor.</returns>
    /// <exception cref="ArgumentException">Per-picture seeds, labels that are not unique or do not match the rows, or a
    /// negative embedding that is not [1, P].</exception>
    public torch.Tensor RenderSweep(PictureStore store, string sweep, IReadOnlyList<string> labels, torch.Tensor embeddings, torch.Tensor? negative,
        DecodeOptions? options = null, string? settingsKey = null, int batchSize = 4, IProgress<LensProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(store);
        ArgumentException.ThrowIfNullOrEmpty(sweep);
        ArgumentNullException.ThrowIfNull(embeddings);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var checkedOptions = CheckSharedSeed(options);
        CheckNegative(negative, 1);
        settingsKey ??= $"decoder={_decoder.GetType().FullName};options={checkedOptions};size={Size};dtype={DType};device={Device}";
        return RunSweep(store, sweep, labels, embeddings, (batch, ct) => DecodeCore(batch, negative, checkedOptions, ct), settingsKey,
            batchSize, _logger, new SweepCounts(), progress, cancellationToken);
    }

    /// <summary>Pictures rendered and reused by sweeps (accumulated across calls).</summary>
    internal sealed class SweepCounts
    {
        public int Rendered { get; set; }
        public int Reused { get; set; }
    }

    /// <summary>One sweep of a <see cref="RunSweeps"/> call: its name in the store, one unique label per row, the [N, P] embeddings (borrowed).</summary>
    internal sealed record SweepPart(string Sweep, IReadOnlyList<string> Labels, torch.Tensor Embeddings);

    /// <summary>
    /// The resumable render loop (also behind the studies package's <c>PictureSweep</c>): fingerprints every row, skips
    /// the labels the store holds under the same fingerprint, renders the rest <paramref name="batchSize"/> at a time
    /// through <paramref name="render"/>, stores each batch as soon as it is decoded, and returns what the store holds.
    /// </summary>
    /// <remarks>
    /// <paramref name="render"/> maps [n, P] float32 CPU embeddings to [n, 3, H, W] float pictures (the loop owns and
    /// disposes the result); <paramref name="counts"/> accumulates rendered and reused pictures, also when the loop throws.
    /// </remarks>
    internal static torch.Tensor RunSweep(PictureStore store, string sweep, IReadOnlyList<string> labels, torch.Tensor embeddings,
        Func<torch.Tensor, CancellationToken, torch.Tensor> render, string settingsKey, int batchSize, ILogger logger, SweepCounts counts,
        IProgress<LensProgress>? progress, CancellationToken cancellationToken) =>
        RunSweeps(store, new[] { new SweepPart(sweep, labels, embeddings) }, render, settingsKey, batchSize, logger, counts, progress, cancellationToken)[0];

    /// <summary>
    /// <see cref="RunSweep"/> over several sweeps at once: the pictures still to render, in part order, share the
    /// <paramref name="batchSize"/>-picture render calls (so e.g. a DSL and a DL sweep of the same targets can be
    /// decoded in one batch), and each picture is stored in its own sweep. Returns every part's pictures, in part order
    /// (the caller owns them).
    /// </summary>
    internal static torch.Tensor[] RunSweeps(PictureStore store, IReadOnlyList<SweepPart> parts,
        Func<torch.Tensor, CancellationToken, torch.Tensor> render, string settingsKey, int batchSize, ILogger logger, SweepCounts counts,
        IProgress<LensProgress>? progress, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0) throw new ArgumentException("no sweeps to render.", nameof(parts));
        foreach (var part in parts)
        {
            ArgumentNullException.ThrowIfNull(part.Labels);
            if (part.Embeddings.ndim != 2 || part.Embeddings.shape[0] != part.Labels.Count)
                throw new ArgumentException($"need [{part.Labels.Count}, P] embeddings; got [{string.Join(", ", part.Embeddings.shape)}].", nameof(parts));
            if (part.Labels.Distinct().Count() != part.Labels.Count) throw new ArgumentException("labels must be unique.", nameof(parts));
        }
        if (parts.Select(p => p.Sweep).Distinct().Count() != parts.Count) throw new ArgumentException("sweep names must be unique.", nameof(parts));
        torch.Tensor joined;
        using (torch.NewDisposeScope())
            joined = torch.cat(parts.Select(p => p.Embeddings.detach().to(torch.float32).cpu()).ToArray(), 0).contiguous().MoveToOuterDisposeScope();
        using var rows = joined;
        // Every row of the call: its part and its label's index within the part.
        var owner = parts.SelectMany((p, k) => Enumerable.Range(0, p.Labels.Count).Select(i => (Part: k, Index: i))).ToArray();
        var fingerprints = owner.Select((_, r) =>
        {
            using var row = rows[r];
            return Fingerprint(row, settingsKey);
        }).ToArray();
        foreach (var part in parts) store.Begin(part.Sweep);
        var done = owner.Select((o, r) => store.IsFinished(parts[o.Part].Sweep, parts[o.Part].Labels[o.Index], fingerprints[r])).ToArray();
        var todo = Enumerable.Range(0, owner.Length).Where(r => !done[r]).ToArray();
        int finished = owner.Length - todo.Length;
        counts.Reused += finished;
        foreach (var group in owner.Where((_, r) => done[r]).GroupBy(o => o.Part))
            logger.LogInformation("{Sweep}: reusing {Count} finished pictures", parts[group.Key].Sweep, group.Count());
        string stage = "decode " + string.Join("+", parts.Select(p => p.Sweep));
        progress?.Report(new LensProgress(stage, finished, owner.Length));
        for (int start = 0; start < todo.Length; start += batchSize)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var chunk = todo.Skip(start).Take(batchSize).ToArray();
            using (var idx = torch.tensor(chunk.Select(i => (long)i).ToArray()))
            using (var batch = rows.index_select(0, idx))
            using (var pictures = render(batch, cancellationToken))
            {
                if (pictures.ndim != 4 || pictures.shape[0] != chunk.Length || pictures.shape[1] != 3 || !pictures.is_floating_point())
                    throw new InvalidOperationException($"the renderer returned {pictures.dtype} [{string.Join(", ", pictures.shape)}] for {chunk.Length} embeddings; expected float [{chunk.Length}, 3, H, W].");
                for (int k = 0; k < chunk.Length; k++)
                {
                    var (p, i) = owner[chunk[k]];
                    using var picture = pictures[k];
                    store.Save(parts[p].Sweep, parts[p].Labels[i], fingerprints[chunk[k]], picture);
                }
            }
            foreach (var p in chunk.Select(r => owner[r].Part).Distinct()) store.Commit(parts[p].Sweep);
            counts.Rendered += chunk.Length;
            finished += chunk.Length;
            progress?.Report(new LensProgress(stage, finished, owner.Length));
        }
        var loaded = new List<torch.Tensor>(parts.Count);
        try
        {
            foreach (var part in parts) loaded.Add(store.Load(part.Sweep, part.Labels));
        }
        catch
        {
            foreach (var t in loaded) t.Dispose();
            throw;
        }
        return loaded.ToArray();
    }

    /// <summary>SHA-256 (lower-case hex) of a float32 CPU row's bytes followed by the UTF-8 settings key.</summary>
    internal static string Fingerprint(torch.Tensor row, string settingsKey)
    {
        var floats = row.data<float>().ToArray();
        var bytes = new byte[floats.Length * sizeof(float)];
        Buffer.BlockCopy(floats, 0, bytes, 0, bytes.Length);
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData(bytes);
        sha.AppendData(Encoding.UTF8.GetBytes(settingsKey));
        return Convert.ToHexString(sha.GetHashAndReset()).ToLowerInvariant();
    }
}
