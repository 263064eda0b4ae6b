using System.CommandLine;
using System.Globalization;
using DiffusionSteeringLens.Analysis;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>Options of the ablation studies (validate, demo).</summary>
internal sealed class ValidationOptions
{
    public Option<int?> TrajectorySteps { get; } = new("--trajectory-steps") { Description = "Heads ablated along each trajectory. Default: every head, at most 32 (greedy costs ~N·heads forwards).", HelpName = "N" };
    public Option<string> RandomSeeds { get; } = new("--random-seeds") { Description = "Seeds of the random-order baselines (comma-separated).", DefaultValueFactory = _ => "1,2,3", HelpName = "LIST" };
    public Option<int> Permutations { get; } = new("--permutations") { Description = "Permutations of the correlation p-value.", DefaultValueFactory = _ => 1000 };
    public Option<string> Ablation { get; } = new("--ablation") { Description = "zero or mean ablation.", DefaultValueFactory = _ => "zero" };

    public void AddTo(Command c)
    {
        c.Add(TrajectorySteps);
        c.Add(RandomSeeds);
        c.Add(Permutations);
        c.Add(Ablation);
    }

    public (int? Steps, int[] Seeds, int Permutations, AblationKind Kind) Bind(ParseResult r)
    {
        var steps = r.GetValue(TrajectorySteps);
        if (steps is < 1) throw new CliUsageException($"--trajectory-steps must be at least 1 (got {steps}).");
        int[] seeds;
        try
        {
            seeds = (r.GetValue(RandomSeeds) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(x => int.Parse(x, NumberStyles.Integer, CultureInfo.InvariantCulture)).ToArray();
        }
        catch (FormatException) { throw new CliUsageException($"--random-seeds must be comma-separated integers (got '{r.GetValue(RandomSeeds)}')."); }
        catch (OverflowException) { throw new CliUsageException($"--random-seeds must be comma-separated integers (got '{r.GetValue(RandomSeeds)}')."); }
        if (seeds.Length == 0) throw new CliUsageException("--random-seeds must list at least one seed.");
        int perms = r.GetValue(Permutations);
        if (perms < 1) throw new CliUsageException($"--permutations must be at least 1 (got {perms}).");
        var kind = (r.GetValue(Ablation) ?? "zero").Trim().ToLowerInvariant() switch
        {
            "zero" => AblationKind.Zero,
            "mean" => AblationKind.Mean,
            var other => throw new CliUsageException($"--ablation must be zero or mean (got '{other}')."),
        };
        return (steps, seeds, perms, kind);
    }
}
