namespace DiffusionSteeringLens.Cli;

/// <summary>Process exit codes of the dsl tool.</summary>
internal static class ExitCodes
{
    public const int Success = 0;
    public const int BadInput = 1;
    public const int InternalError = 2;
}
