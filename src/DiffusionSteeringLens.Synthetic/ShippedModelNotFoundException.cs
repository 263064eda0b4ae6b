namespace DiffusionSteeringLens.Synthetic;

/// <summary>A shipped model (see <see cref="ShippedModels"/>) is not where an application looked for it.</summary>
public sealed class ShippedModelNotFoundException : DirectoryNotFoundException
{
    /// <summary>Creates the exception for <paramref name="model"/> searched from <paramref name="searchedFrom"/>.</summary>
    public ShippedModelNotFoundException(string model, IReadOnlyList<string> searchedFrom)
        : base($"the shipped model {ShippedModels.RepositoryFolder}/{model} was not found in or above {string.Join(" or ", searchedFrom)}; "
            + $"run from a clone of the repository, or copy {ShippedModels.RepositoryFolder}/{model} to {ShippedModels.BesideApplicationFolder}/{model} next to your application.")
    {
        Model = model;
        SearchedFrom = searchedFrom;
    }

    /// <summary>The model that was looked for, e.g. <c>shapes32</c> or <c>marked96/seed2</c>.</summary>
    public string Model { get; }

    /// <summary>The start directories of the search.</summary>
    public IReadOnlyList<string> SearchedFrom { get; }
}
