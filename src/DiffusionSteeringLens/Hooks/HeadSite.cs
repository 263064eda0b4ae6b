namespace DiffusionSteeringLens.Hooks;

/// <summary>Where a per-head intervention acts.</summary>
public enum HeadSite
{
    /// <summary><c>attn.hook_z</c> [B,T,H,d]: the head's attention-weighted values (cheap; the fused out-projection runs).</summary>
    Z,
    /// <summary><c>attn.hook_result</c> [B,T,H,D]: the head's write into the residual (computes per-head results).</summary>
    Result,
}
