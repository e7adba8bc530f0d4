using NicBypass.Dsl.Hardware;
using NicBypass.Runtime.Devices;

namespace NicBypass.Hosting.Tests;

/// <summary>Both catalogues are read from one table (NicModelTable); this checks the two projections of it.</summary>
public class CatalogueTests
{
    [Fact]
    public void The_language_and_the_runtime_agree_on_every_nic_model()
    {
        Assert.Equal(NicModelCatalogue.Models.Select(m => m.Name), SimNicModels.All.Select(m => m.Name));
        foreach (var model in NicModelCatalogue.Models)
        {
            var runtime = SimNicModels.Get(model.Name);
            Assert.Equal(
                (model.Driver, (long)model.LinkSpeed.BitsPerSecond, model.MaxRxRings, model.MaxTxRings, (int)model.ClassifierFields, model.ClassifierEntries, model.MsiVectors, model.MaxMtu),
                (runtime.Driver, runtime.LinkSpeedBitsPerSecond, runtime.MaxRxRings, runtime.MaxTxRings, (int)runtime.ClassifierFields, runtime.ClassifierEntries, runtime.MsiVectors, runtime.MaxMtu));
        }
    }
}
