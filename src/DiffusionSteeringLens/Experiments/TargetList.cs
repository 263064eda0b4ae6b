using System.Text.RegularExpressions;
using DiffusionSteeringLens.Lenses;
using DiffusionSteeringLens.Models.Vit;

namespace DiffusionSteeringLens.Experiments;

/// <summary>
/// Parses a comma-separated list of lens targets with shorthands: <c>all-heads</c>, <c>all-mlps</c>, <c>all-layers</c>
/// (every <c>resid_post</c>), layer ranges <c>L2-3</c> (every head of layers 2..3) and any <see cref="LensTarget.Parse"/>
/// form (<c>L36H4</c>, <c>mlp:30</c>, <c>resid_post:5</c>).
/// </summary>
public static class TargetList
{
    private static readonly Regex LayerRange = new(@"^L(\d+)(?:-(\d+))?$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    /// <summary>Parses and validates the list against <paramref name="arch"/>; duplicates are dropped, order kept.</summary>
    /// <exception cref="FormatException">An entry is not a target, or names a layer/head the model does not have.</exception>
    public static IReadOnlyList<LensTarget> Parse(string text, VitArchitecture arch)
    {
        ArgumentNullException.ThrowIfNull(arch);
        var result = new List<LensTarget>();
        var entries = (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (entries.Length == 0) throw new FormatException("empty target list; use e.g. all-heads, L2H1,mlp:3 or L2-3.");
        foreach (var entry in entries)
        {
            switch (entry.ToLowerInvariant())
            {
                case "all-heads": result.AddRange(LensTarget.AllHeads(arch)); continue;
                case "all-mlps": result.AddRange(LensTarget.AllMlps(arch)); continue;
                case "all-layers": result.AddRange(LensTarget.LayerSweep(arch)); continue;
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
            var target = LensTarget.Parse(entry);
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
}
