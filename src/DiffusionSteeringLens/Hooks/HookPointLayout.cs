namespace DiffusionSteeringLens.Hooks;

/// <summary>
/// Layout facts about hook points that the name alone determines. This is the one place the token axis is defined:
/// <see cref="HookPoint"/> takes its axis from here, and so do the interventions that select positions.
/// </summary>
internal static class HookPointLayout
{
    /// <summary>
    /// The axis that token positions index: 2 (query axis) for <c>hook_pattern</c>, none for <c>ln_final</c> and
    /// <c>hook_image_embeds</c>, 1 for everything else.
    /// </summary>
    public static int? TokenAxis(string hookName)
    {
        ArgumentNullException.ThrowIfNull(hookName);
        if (hookName == HookNames.LnFinal || hookName == HookNames.ImageEmbeds) return null;
        return hookName.EndsWith(".attn.hook_pattern", StringComparison.Ordinal) ? 2 : 1;
    }
}
