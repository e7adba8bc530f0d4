using OxyPlot;
using OxyPlot.Axes;
using OxyPlot.Legends;
using OxyPlot.Series;

namespace NicBypass.Experiments;

/// <summary>Line charts written as SVG (OxyPlot's exporter: no native libraries).</summary>
public static class Plot
{
    public static void Lines(string path, string title, string x, string y, IEnumerable<(string Name, IReadOnlyList<(double X, double Y)> Points)> series, bool logX = false)
    {
        // Arial: the exporter measures text with Helvetica's metrics, so labels fit as drawn.
        var model = new PlotModel
        {
            Title = title, Background = OxyColors.White, DefaultFont = "Arial", TitleFontSize = 14,
            Padding = new OxyThickness(8, 16, 24, 8),
        };
        model.Legends.Add(new Legend
        {
            LegendPlacement = LegendPlacement.Outside, LegendPosition = LegendPosition.BottomLeft, LegendOrientation = LegendOrientation.Vertical,
            LegendFont = "Arial", LegendFontSize = 12,
        });
        model.Axes.Add(logX
            ? new LogarithmicAxis { Position = AxisPosition.Bottom, Title = x, MajorGridlineStyle = LineStyle.Dot }
            : new LinearAxis { Position = AxisPosition.Bottom, Title = x, MajorGridlineStyle = LineStyle.Dot });
        model.Axes.Add(new LinearAxis { Position = AxisPosition.Left, Title = y, MajorGridlineStyle = LineStyle.Dot, Minimum = 0 });
        foreach (var (name, points) in series)
        {
            var line = new LineSeries { Title = name, MarkerType = MarkerType.Circle, MarkerSize = 3 };
            line.Points.AddRange(points.Select(p => new DataPoint(p.X, p.Y)));
            model.Series.Add(line);
        }
        using var stream = File.Create(path);
        new SvgExporter { Width = 720, Height = 500 }.Export(model, stream);
    }
}
