import ArgumentParser
import Convert
import Distill
import Formats
import Model
#if canImport(Glibc)
import Glibc
#endif

/// The `ckpt` command line: one file per subcommand; this file only decides exit codes
/// (0 ok, 1 error, 2 usage) and prints `error: ...` lines.
@main
struct CKPT: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ckpt",
        abstract: "Inspect, convert, distill, quantize and export language-model checkpoints.",
        version: "0.1.0",
        subcommands: [Inspect.self, ConvertCommand.self, Quantize.self, Generate.self, PerplexityCommand.self, Compare.self,
                      Tokenize.self, ChatTemplateCommand.self, ImatrixCommand.self, Finetune.self, PromptTune.self, Student.self, DistillCommand.self, TeacherLogitsCommand.self, LoRACommand.self, Eval.self, BenchTrain.self, BenchDistill.self])

    static func main() {
        Parallel.shortenBLASSpin()
        Parallel.configurePool()
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch let error as FormatError {
            fail("error: \(error)", code: 1)
        } catch let error as ConvertError {
            fail("error: \(error)" + (error.hint.map { "\nhint: \($0)" } ?? ""), code: 1)
        } catch let error as ModelError {
            fail("error: \(error)", code: 1)
        } catch let error as DistillError {
            fail("error: \(error)", code: 1)
        } catch let error as ToolError {
            fail("error: \(error.message)" + (error.hint.map { "\nhint: \($0)" } ?? ""), code: 1)
        } catch {
            let code = exitCode(for: error)
            if code == .success { exit(withError: error) }
            fail(fullMessage(for: error), code: 2)
        }
    }

    static func fail(_ message: String, code: Int32) -> Never {
        Stderr.write(message + "\n")
        Glibc.exit(code)
    }
}

/// An error the tool itself raises (not from a library), with an optional hint line.
struct ToolError: Error {
    var message: String
    var hint: String?
}

enum Stderr {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
    }
}

enum Stdout {
    static func write(_ text: String) {
        var bytes = Array(text.utf8)
        var done = 0
        bytes.withUnsafeMutableBytes { raw in
            while done < raw.count {
                let n = Glibc.write(STDOUT_FILENO, raw.baseAddress! + done, raw.count - done)
                if n <= 0 { break }
                done += n
            }
        }
    }
}
