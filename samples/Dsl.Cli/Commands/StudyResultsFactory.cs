using DiffusionSteeringLens.Experiments;

namespace DiffusionSteeringLens.Cli.Commands;

/// <summary>The run description every command's results start from.</summary>
internal static class StudyResultsFactory
{
    public static StudyResults Base(Session session, string command, bool steering = true) => new()
    {
        Command = command,
        Encoder = session.EncoderPath,
        Decoder = session.DecoderDescription,
        Input = session.InputDescription,
        Steering = steering ? session.Settings.Steering.ToString() : null,
        Architecture = session.Encoder.Architecture,
        DecodeSettings = session.DecodeSettings,
    };
}
