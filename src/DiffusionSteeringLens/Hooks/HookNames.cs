namespace DiffusionSteeringLens.Hooks;

/// <summary>
/// Hook-point names, spelled as TransformerLens spells them so researchers recognise them. Layer-independent points:
/// <c>hook_embed</c>, <c>hook_pos_embed</c>, <c>ln_pre</c> (= the residual stream entering layer 0), <c>ln_final</c>
/// (final norm of the CLS row), <c>hook_image_embeds</c> (output embedding).
/// </summary>
public static class HookNames
{
    /// <summary>Patch embeddings plus CLS token, before position embeddings [B,T,D].</summary>
    public const string Embed = "hook_embed";
    /// <summary>Position embeddings added to the tokens [B,T,D].</summary>
    public const string PosEmbed = "hook_pos_embed";
    /// <summary>
    /// The residual stream entering layer 0 [B,T,D]: the pre-encoder LayerNorm's output (CLIP), or the embeddings
    /// themselves for families without a pre-norm (ViT, DINOv2).
    /// </summary>
    public const string LnPre = "ln_pre";
    /// <summary>Final LayerNorm applied to the CLS row [B,D] (DINOv2: equal to its output embedding).</summary>
    public const string LnFinal = "ln_final";
    /// <summary>The output embedding [B,P]: CLIP's projected embedding, ViT's class logits, DINOv2's pooled CLS.</summary>
    public const string ImageEmbeds = "hook_image_embeds";

    /// <summary>Residual stream entering layer l [B,T,D].</summary>
    public static string ResidPre(int layer) => $"blocks.{layer}.hook_resid_pre";
    /// <summary>Residual stream after layer l's attention [B,T,D].</summary>
    public static string ResidMid(int layer) => $"blocks.{layer}.hook_resid_mid";
    /// <summary>Residual stream leaving layer l [B,T,D].</summary>
    public static string ResidPost(int layer) => $"blocks.{layer}.hook_resid_post";
    /// <summary>Attention block output incl. out-projection bias [B,T,D].</summary>
    public static string AttnOut(int layer) => $"blocks.{layer}.hook_attn_out";
    /// <summary>MLP block output [B,T,D].</summary>
    public static string MlpOut(int layer) => $"blocks.{layer}.hook_mlp_out";
    /// <summary>Output of the first LayerNorm (attention input) [B,T,D].</summary>
    public static string Ln1(int layer) => $"blocks.{layer}.ln1.hook_normalized";
    /// <summary>Output of the second LayerNorm (MLP input) [B,T,D].</summary>
    public static string Ln2(int layer) => $"blocks.{layer}.ln2.hook_normalized";
    /// <summary>Queries per head [B,T,H,d_head].</summary>
    public static string Q(int layer) => $"blocks.{layer}.attn.hook_q";
    /// <summary>Keys per head [B,T,H,d_head].</summary>
    public static string K(int layer) => $"blocks.{layer}.attn.hook_k";
    /// <summary>Values per head [B,T,H,d_head].</summary>
    public static string V(int layer) => $"blocks.{layer}.attn.hook_v";
    /// <summary>Attention probabilities [B,H,T_query,T_key].</summary>
    public static string Pattern(int layer) => $"blocks.{layer}.attn.hook_pattern";
    /// <summary>Attention-weighted values per head, before the out-projection [B,T,H,d_head].</summary>
    public static string Z(int layer) => $"blocks.{layer}.attn.hook_z";
    /// <summary>Per-head contribution to the residual, out-projection bias excluded [B,T,H,D].</summary>
    public static string Result(int layer) => $"blocks.{layer}.attn.hook_result";
    /// <summary>MLP hidden pre-activation [B,T,d_mlp].</summary>
    public static string MlpPre(int layer) => $"blocks.{layer}.mlp.hook_pre";
    /// <summary>MLP hidden post-activation [B,T,d_mlp].</summary>
    public static string MlpPost(int layer) => $"blocks.{layer}.mlp.hook_post";

    /// <summary>Points that cost extra memory or compute and are produced only when cached or hooked.</summary>
    public static bool IsOnDemand(string name) =>
        name.EndsWith(".attn.hook_result", StringComparison.Ordinal) || name.EndsWith(".attn.hook_q", StringComparison.Ordinal)
        || name.EndsWith(".attn.hook_k", StringComparison.Ordinal) || name.EndsWith(".attn.hook_v", StringComparison.Ordinal)
        || name.EndsWith(".attn.hook_pattern", StringComparison.Ordinal);
}
