import Foundation

/// A small SVG line chart of loss curves (train loss per step, dev loss per evaluation): the report's plot.
public enum LossPlot {
    public struct Series: Sendable {
        public var name: String
        public var points: [(x: Double, y: Double)]
        public var color: String
        public init(name: String, points: [(x: Double, y: Double)], color: String) {
            self.name = name
            self.points = points
            self.color = color
        }
    }

    public static func svg(_ series: [Series], title: String, width: Double = 640, height: Double = 360) -> String {
        let all = series.flatMap(\.points).filter { $0.y.isFinite }
        let left = 64.0, right = 16.0, top = 32.0, bottom = 40.0
        let x0 = all.map(\.x).min() ?? 0, x1 = max(all.map(\.x).max() ?? 1, x0 + 1)
        let yLow = all.map(\.y).min() ?? 0, yHigh = all.map(\.y).max() ?? 1
        let y0 = yLow - 0.05 * max(yHigh - yLow, 1e-3), y1 = yHigh + 0.05 * max(yHigh - yLow, 1e-3)
        func px(_ x: Double) -> Double { left + (x - x0) / (x1 - x0) * (width - left - right) }
        func py(_ y: Double) -> Double { top + (y1 - y) / (y1 - y0) * (height - top - bottom) }
        func f(_ v: Double) -> String { String(format: "%.1f", v) }
        var out = """
            <svg xmlns="http://www.w3.org/2000/svg" width="\(Int(width))" height="\(Int(height))" font-family="sans-serif" font-size="12">
            <rect width="100%" height="100%" fill="white"/>
            <text x="\(f(width / 2))" y="20" text-anchor="middle" font-size="14">\(escape(title))</text>
            <line x1="\(f(left))" y1="\(f(height - bottom))" x2="\(f(width - right))" y2="\(f(height - bottom))" stroke="black"/>
            <line x1="\(f(left))" y1="\(f(top))" x2="\(f(left))" y2="\(f(height - bottom))" stroke="black"/>

            """
        for i in 0...4 {
            let y = y0 + (y1 - y0) * Double(i) / 4, x = x0 + (x1 - x0) * Double(i) / 4
            out += "<text x=\"\(f(left - 6))\" y=\"\(f(py(y) + 4))\" text-anchor=\"end\">\(String(format: "%.3g", y))</text>\n"
            out += "<line x1=\"\(f(left))\" y1=\"\(f(py(y)))\" x2=\"\(f(width - right))\" y2=\"\(f(py(y)))\" stroke=\"#ddd\"/>\n"
            out += "<text x=\"\(f(px(x)))\" y=\"\(f(height - bottom + 16))\" text-anchor=\"middle\">\(Int(x.rounded()))</text>\n"
        }
        out += "<text x=\"\(f((left + width - right) / 2))\" y=\"\(f(height - 6))\" text-anchor=\"middle\">step</text>\n"
        for (i, s) in series.enumerated() {
            let points = s.points.filter { $0.y.isFinite }.map { "\(f(px($0.x))),\(f(py($0.y)))" }.joined(separator: " ")
            out += "<polyline fill=\"none\" stroke=\"\(s.color)\" stroke-width=\"1.5\" points=\"\(points)\"/>\n"
            if s.points.count < 40 {
                for p in s.points where p.y.isFinite {
                    out += "<circle cx=\"\(f(px(p.x)))\" cy=\"\(f(py(p.y)))\" r=\"2.5\" fill=\"\(s.color)\"/>\n"
                }
            }
            let ly = top + 14 + 16 * Double(i)
            out += "<line x1=\"\(f(width - right - 110))\" y1=\"\(f(ly - 4))\" x2=\"\(f(width - right - 90))\" y2=\"\(f(ly - 4))\" stroke=\"\(s.color)\" stroke-width=\"2\"/>\n"
            out += "<text x=\"\(f(width - right - 84))\" y=\"\(f(ly))\">\(escape(s.name))</text>\n"
        }
        return out + "</svg>\n"
    }

    static func escape(_ s: String) -> String {
        s.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;").replacingOccurrences(of: ">", with: "&gt;")
    }
}
