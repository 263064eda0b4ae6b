using System.Text.RegularExpressions;
using DiffusionSteeringLens.Hooks;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Lenses;

/// <summary>What a lens reads out: a residual-stream site, one attention head, or one MLP.</summary>
public abstract record LensTarget
{
    /// <summary>Layer index (0-based).</summary>
    public abstract int Layer { get; }

    /// <summary>Short label, e.g. <c>L3H1</c>, <c>mlp:2</c>, <c>resid_post:5</c>; <see cref="Parse"/> reads it back.</summary>
    public abstract string Label { get; }

    /// <summary>
    /// The label as a file name valid on every platform (Windows forbids <c>:</c>): <c>L3H1</c>, <c>mlp_2</c>,
    /// <c>resid_post_5</c> — the names the dsl tool gives its pictures.
    /// </summary>
    public string FileName => Label.Replace(':', '_');

    /// <summary>The hook point holding this target's value.</summary>
    public abstract string HookName { get; }

    /// <inheritdoc />
    public sealed override string ToString() => Label;

    /// <summary>Checks the target exists in a model.</summary>
    /// <exception cref="ArgumentOutOfRangeException">Layer or head out of range; the message names the target and the model's sizes.</exception>
    public virtual void Validate(VitArchitecture arch)
    {
        if (Layer < 0 || Layer >= arch.NumLayers)
            throw new ArgumentOutOfRangeException(nameof(Layer), $"target {Label}: layer {Layer} is outside 0..{arch.NumLayers - 1}.");
    }

    private static readonly Regex HeadPattern = new(@"^L(\d+)H(\d+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex MlpPattern = new(@"^mlp:(\d+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex ResidPattern = new(@"^resid_(pre|mid|post):(\d+)$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
    private static readonly Regex LayerRange = new(@"^L(\d+)(?:-(\d+))?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>Parses <c>L36H4</c>, <c>mlp:30</c>, <c>resid_pre:0</c> / <c>resid_mid:3</c> / <c>resid_post:47</c>.</summary>
    /// <exception cref="FormatException">Unrecognised text; the message lists the accepted forms.</exception>
    public static LensTarget Parse(string text)
    {
        var t = text.Trim();
        var m = HeadPattern.Match(t);
        if (m.Success) return new HeadTarget(int.Parse(m.Groups[1].Value), int.Parse(m.Groups[2].Value));
        m = MlpPattern.Match(t);
        if (m.Success) return new MlpTarget(int.Parse(m.Groups[1].Value));
        m = ResidPattern.Match(t);
        if (m.Success)
            return new ResidualTarget(int.Parse(m.Groups[2].Value), Enum.Parse<ResidualPosition>(m.Groups[1].Value, ignoreCase: true));
        throw new FormatException($"'{text}' is not a lens target; use L<layer>H<head> (e.g. L36H4), mlp:<layer> or resid_pre|resid_mid|resid_post:<layer>.");
    }

    /// <summary>
    /// Parses a comma-separated list of targets with shorthands: <c>all-heads</c>, <c>all-mlps</c>, <c>all-layers</c> (every
    /// <c>resid_post</c>), layer ranges <c>L2-3</c> (every head of layers 2..3) and any <see cref="Parse"/> form (<c>L36H4</c>,
    /// <c>mlp:30</c>, <c>resid_post:5</c>), and validates it against <paramref name="arch"/>; duplicates are dropped, order kept.
    /// </summary>
    /// <exception cref="FormatException">An entry is not a target, or names a layer/head the model does not have.</exception>
    public static IReadOnlyList<LensTarget> ParseList(string text, VitArchitecture arch)
    {
        ArgumentNullException.ThrowIfNull(arch);
        var result = new List<LensTarget>();
        var entries = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0) throw new FormatException("empty target list; use e.g. all-heads, L2H1,mlp:3 or L2-3.");
        foreach (var entry in entries)
        {
            switch (entry.ToLowerInvariant())
            {
                case "all-heads": result.AddRange(AllHeads(arch)); continue;
                case "all-mlps": result.AddRange(AllMlps(arch)); continue;
                case "all-layers": result.AddRange(LayerSweep(arch)); continue;
            }
            var m = LayerRange.Match(entry);
            if (m.Success)
            {
                int from = int.Parse(m.Groups[1].Value), to = m.Groups[2].Success ? int.Parse(m.Groups[2].Value) : from;
                if (to < from || from < 0 || to >= arch.NumLayers)
                    throw new FormatException($"'{entry}': layer range must lie within 0..{arch.NumLayers - 1} (low-high).");
                for (int l = from; l <= to; l++)
                    for (int h = 0; h < arch.NumHeads; h++) result.Add(new HeadTarget(l, h));
                continue;
            }
            var target = Parse(entry);
            try { target.Validate(arch); }
            catch (ArgumentOutOfRangeException e)
            {
                // Validate's message is already "target X: layer N is outside 0..M." — strip the parameter suffix.
                throw new FormatException(e.Message.Split(" (Parameter")[0]);
            }
            result.Add(target);
        }
        return result.Distinct().ToArray();
    }

    /// <summary>Every head of a model, layer-major (L0H0, L0H1, …).</summary>
    public static IReadOnlyList<HeadTarget> AllHeads(VitArchitecture arch) =>
        Enumerable.Range(0, arch.NumLayers).SelectMany(l => Enumerable.Range(0, arch.NumHeads).Select(h => new HeadTarget(l, h))).ToArray();

    /// <summary>Every MLP of a model.</summary>
    public static IReadOnlyList<MlpTarget> AllMlps(VitArchitecture arch) =>
        Enumerable.Range(0, arch.NumLayers).Select(l => new MlpTarget(l)).ToArray();

    /// <summary>The Diffusion Lens layer sweep: resid_post of every layer.</summary>
    public static IReadOnlyList<ResidualTarget> LayerSweep(VitArchitecture arch, ResidualPosition position = ResidualPosition.Post) =>
        Enumerable.Range(0, arch.NumLayers).Select(l => new ResidualTarget(l, position)).ToArray();
}
