using DiffusionSteeringLens.Models.Vit;
using TorchSharp;
using static TorchSharp.torch;

namespace DiffusionSteeringLens.Tests.Vit;

/// <summary>
/// <see cref="LayerStack"/> frees each block's intermediates when the block ends (a ViT-bigG/14 forward held 2.3 GB of
/// them per image until the whole forward ended) without touching what it does not own.
/// </summary>
public sealed class LayerStackTests
{
    /// <summary>A block that makes <paramref name="temporaries"/> throw-away tensors and returns x·2 + 1 (or what <see cref="Returns"/> gives).</summary>
    private sealed class Block(int temporaries, Block? previous = null) : nn.Module<Tensor, Tensor>("block")
    {
        public Func<Tensor, Tensor>? Returns { get; init; }
        public List<Tensor> Temporaries { get; } = new();
        public bool? PreviousFreedWhenCalled { get; private set; }

        public override Tensor forward(Tensor x)
        {
            PreviousFreedWhenCalled = previous?.Temporaries.All(t => t.IsInvalid);
            for (int i = 0; i < temporaries; i++) Temporaries.Add(x * i);
            return Returns?.Invoke(x) ?? x * 2 + 1;
        }
    }

    [Fact]
    public void BlockIntermediatesAreFreedBlockByBlockAndTheResultMatchesAPlainLoop()
    {
        var blocks = new List<Block>();
        for (int i = 0; i < 6; i++) blocks.Add(new Block(10, i == 0 ? null : blocks[i - 1]));
        using var input = torch.arange(4f);
        using var scope = NewDisposeScope();                  // as HookedVitModel.Execute runs a forward
        var y = LayerStack.Run(blocks, input);
        // Each block's temporaries were gone before the next block ran (one scope for the whole forward kept them all).
        Assert.All(blocks.Skip(1), b => Assert.True(b.PreviousFreedWhenCalled));
        Assert.All(blocks.SelectMany(b => b.Temporaries), t => Assert.True(t.IsInvalid));
        var expected = input.clone();
        for (int i = 0; i < blocks.Count; i++) expected = expected * 2 + 1;
        Assert.Equal(expected.data<float>().ToArray(), y.data<float>().ToArray());
        Assert.False(input.IsInvalid);                         // the caller's input is never disposed
        Assert.True(scope.Contains(y));                        // the result belongs to the forward's scope, as before
    }

    [Fact]
    public void ATensorAHookHandsBackFromOutsideIsNeitherDisposedNorAdopted()
    {
        using var kept = torch.full(4, 7f).DetachFromDisposeScope();   // e.g. a patch value a hook keeps for the run
        var blocks = new[] { new Block(2), new Block(2) { Returns = _ => kept }, new Block(2) };
        using var input = torch.zeros(4);
        using (var scope = NewDisposeScope())
        {
            var y = LayerStack.Run(blocks, input);
            Assert.Equal(Enumerable.Repeat(15f, 4), y.data<float>().ToArray());   // 7·2 + 1
            Assert.False(scope.Contains(kept));
        }
        Assert.False(kept.IsInvalid);
        Assert.Equal(Enumerable.Repeat(7f, 4), kept.data<float>().ToArray());
    }
}
