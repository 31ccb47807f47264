import Formats
import Foundation

/// What TrainingRun drives: the SFT/prompt Trainer and the Distiller.
public protocol SteppedTraining: AnyObject {
    var step: Int { get }
    var totalSteps: Int { get }
    var evalEvery: Int { get }
    var saveEvery: Int { get }
    var lastCheckpoint: String? { get }
    var modeName: String { get }
    /// The dev metric's name in the log ("dev_loss", "dev_rougeL").
    var devMetricName: String { get }
    func trainStep() throws(DistillError) -> Trainer.StepReport
    func devMetric() throws(DistillError) -> Double?
    func saveCheckpoint(run: String) throws(DistillError) -> String
}

/// The loop around a trainer: steps until its total, a metrics log (RUN/metrics.jsonl, one JSON object per
/// step and per dev evaluation), the dev metric and checkpoints on their schedules and at the end, and the
/// loss plot (RUN/loss.svg). A resumed run first drops log lines past its checkpoint, so the log reads as
/// one uninterrupted run. Events go to the caller (the tool prints them).
public enum TrainingRun {
    public enum Event {
        case step(Trainer.StepReport, totalSteps: Int, etaSeconds: Double)
        case dev(step: Int, name: String, value: Double)
        case checkpoint(step: Int, folder: String)
    }

    public struct Summary: Sendable {
        public var steps: Int
        public var firstLoss: Double?
        public var lastLoss: Double?
        /// The last dev evaluation, under the trainer's metric name (dev_loss, dev_rougeL).
        public var devMetricName: String
        public var devMetric: Double?
        public var seconds: Double
        public var checkpoint: String?
        public var plot: String
        public var metrics: String
    }

    /// `stopAfter`: end (with a checkpoint) after this step although the run plans more — resume it later
    /// with the same options; schedules that depend on the total (cosine, PromptKD's 1 − s/S) stay exact.
    public static func run(_ trainer: some SteppedTraining, folder: String, stopAfter: Int? = nil,
                           observer: (Event) -> Void) throws(DistillError) -> Summary {
        let metricsPath = folder + "/metrics.jsonl"
        try keepLog(metricsPath, upToStep: trainer.step)
        guard let log = FileHandle(forWritingAtPath: metricsPath) else {
            throw .format(.io(path: metricsPath, reason: "cannot open for appending"))
        }
        defer { try? log.close() }
        _ = try? log.seekToEnd()
        // FileHandle.write(_: Data) traps on a failed write (a full disk): the throwing form names the file.
        func write(_ fields: [(String, JSONValue)]) throws(DistillError) {
            do { try log.write(contentsOf: Data((JSONWriter.compact(.object(fields)) + "\n").utf8)) } catch {
                throw .format(.io(path: metricsPath, reason: "write failed: \((error as NSError).underlyingErrorReason)"))
            }
        }
        let start = Date(), startStep = trainer.step, total = trainer.totalSteps, devName = trainer.devMetricName
        var summary = Summary(steps: total, devMetricName: devName, seconds: 0, plot: folder + "/loss.svg", metrics: metricsPath)
        var lastDevStep = -1, lastSaveStep = -1
        let end = min(total, stopAfter ?? total)
        // A fresh run evaluates its starting model too, so best-on-dev selection (distill --load-best) can keep
        // it when training only makes the dev metric worse.
        // Logs and reports the dev metric at the current step; false when the trainer has no dev evaluation.
        func evaluateDev() throws(DistillError) -> Bool {
            guard let value = try trainer.devMetric() else { return false }
            try write([("step", .int(trainer.step)), (devName, .double(value))])
            observer(.dev(step: trainer.step, name: devName, value: value))
            summary.devMetric = value
            return true
        }
        if trainer.step == 0, end > 0, trainer.evalEvery > 0 { _ = try evaluateDev() }
        while trainer.step < end {
            let report = try trainer.trainStep()
            try write([("step", .int(report.step)), ("loss", .double(report.loss)), ("lr", .double(report.learningRate)),
                   ("grad_norm", .double(Double(report.gradNorm))), ("tokens", .int(report.tokens)),
                   ("tok_per_s", .double((Double(report.tokens) / report.seconds).rounded())), ("seconds", .double(report.seconds))]
                  + report.extra.map { ($0.0, .double($0.1)) })
            summary.firstLoss = summary.firstLoss ?? report.loss
            summary.lastLoss = report.loss
            let done = Double(trainer.step - startStep), elapsed = Date().timeIntervalSince(start)
            observer(.step(report, totalSteps: total, etaSeconds: elapsed / done * Double(total - trainer.step)))
            if trainer.evalEvery > 0, trainer.step % trainer.evalEvery == 0 || trainer.step == total, try evaluateDev() {
                lastDevStep = trainer.step
            }
            if (trainer.saveEvery > 0 && trainer.step % trainer.saveEvery == 0) || trainer.step == end {
                let path = try trainer.saveCheckpoint(run: folder)
                observer(.checkpoint(step: trainer.step, folder: path))
                lastSaveStep = trainer.step
            }
        }
        if lastDevStep != trainer.step, trainer.step == total { _ = try evaluateDev() }
        if lastSaveStep != trainer.step, trainer.step > startStep || trainer.lastCheckpoint == nil {
            summary.checkpoint = try trainer.saveCheckpoint(run: folder)
        } else {
            summary.checkpoint = trainer.lastCheckpoint
        }
        summary.steps = trainer.step
        summary.seconds = Date().timeIntervalSince(start)
        try writePlot(metricsPath, to: summary.plot, title: "loss (\(trainer.modeName))", devKey: devName)
        return summary
    }

    /// Creates the log if missing; otherwise keeps only lines whose step is ≤ `step`.
    static func keepLog(_ path: String, upToStep step: Int) throws(DistillError) {
        let kept = readLog(path).filter { ($0["step"]?.uint64Value).map { Int($0) <= step } ?? false }
        let text = kept.map { JSONWriter.compact($0) + "\n" }.joined()
        do {
            let out = try AtomicOutput(path: path, overwrite: true)
            try out.write(Array(text.utf8))
            try out.commit()
        } catch { throw .format(error) }
    }

    /// Every line of a metrics log that parses (a missing file is an empty log).
    public static func readLog(_ path: String) -> [JSONValue] {
        guard let data = FileManager.default.contents(atPath: path) else { return [] }
        return data.split(separator: UInt8(ascii: "\n")).compactMap { try? JSONParser.parse(Array($0)) }
    }

    static func writePlot(_ metrics: String, to path: String, title: String, devKey: String) throws(DistillError) {
        let lines = readLog(metrics)
        func series(_ key: String) -> [(x: Double, y: Double)] {
            lines.compactMap { line in
                guard let s = line["step"]?.doubleValue, let v = line[key]?.doubleValue else { return nil }
                return (s, v)
            }
        }
        let svg = LossPlot.svg([.init(name: "train loss", points: series("loss"), color: "#1f77b4"),
                                .init(name: devKey.replacingOccurrences(of: "_", with: " "), points: series(devKey), color: "#d62728")],
                               title: title)
        do {
            let out = try AtomicOutput(path: path, overwrite: true)
            try out.write(Array(svg.utf8))
            try out.commit()
        } catch { throw .format(error) }
    }
}

