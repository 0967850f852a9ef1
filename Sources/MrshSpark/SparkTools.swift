#if canImport(Glibc)
import Glibc
#endif
import Foundation
import MrshDataPath

/// Finds what a Spark session needs on this machine: Java and `spark-submit`.
enum SparkTools {
    /// `$JAVA_HOME/bin/java`, else `java` on PATH.
    static func java(_ environment: [String: String]) throws -> String {
        if let home = environment["JAVA_HOME"], !home.isEmpty {
            let path = home + "/bin/java"
            guard access(path, X_OK) == 0 else {
                throw EngineError.failed("Spark needs Java 17 or later: JAVA_HOME is '\(home)', which has no bin/java")
            }
            return path
        }
        guard let path = onPath("java", environment) else {
            throw EngineError.failed(
                "Spark needs Java 17 or later: no 'java' on PATH and JAVA_HOME is not set "
                    + "(Debian: apt-get install openjdk-17-jre-headless)")
        }
        return path
    }

    /// `$SPARK_HOME/bin/spark-submit`, else `spark-submit` on PATH.
    static func sparkSubmit(_ environment: [String: String]) throws -> String {
        if let home = environment["SPARK_HOME"], !home.isEmpty {
            let path = home + "/bin/spark-submit"
            guard access(path, X_OK) == 0 else {
                throw EngineError.failed("SPARK_HOME is '\(home)', which has no bin/spark-submit")
            }
            return path
        }
        guard let path = onPath("spark-submit", environment) else {
            throw EngineError.failed(
                "no spark-submit on PATH and SPARK_HOME is not set: install PySpark (pip install pyspark) or Spark")
        }
        return path
    }

    /// The standard output of a short command (`arguments[0]` found on PATH), nil when it fails or takes
    /// more than 30 seconds.
    static func output(of arguments: [String], environment: [String: String]) -> String? {
        guard let executable = arguments[0].contains("/") ? arguments[0] : onPath(arguments[0], environment) else { return nil }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = Array(arguments.dropFirst())
        process.environment = environment
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        process.standardInput = FileHandle.nullDevice
        guard (try? process.run()) != nil else { return nil }
        let timer = DispatchWorkItem { process.terminate() }
        DispatchQueue.global().asyncAfter(deadline: .now() + 30, execute: timer)
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        timer.cancel()
        guard process.terminationStatus == 0 else { return nil }
        return String(decoding: data, as: UTF8.self)
    }

    static func onPath(_ name: String, _ environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let path = directory + "/" + name
            if access(path, X_OK) == 0, !FileIO.isDirectory(path) { return path }
        }
        return nil
    }
}

/// A Spark home of a session's own: the real install's entries as symbolic links, next to a `work`
/// directory of the session's. `local-cluster` workers put every executor's directory (its copy of the mrsh
/// binary included) under `$SPARK_HOME/work` and never remove them, and a user's Spark install (a system
/// PySpark, say) is often not theirs to write: with this home, those directories live, and go, with the session.
enum SparkSessionHome {
    /// Makes `path` (replacing what an earlier session left there) from the install `spark-submit` belongs to.
    /// nil when that install cannot be found; the session then uses Spark's own home.
    static func make(at path: String, submit: String, environment: [String: String]) -> String? {
        guard let real = realHome(submit: submit, environment: environment), real != path,
            let entries = try? FileIO.listDirectory(real)
        else { return nil }
        FileIO.removeTree(path)
        guard (try? FileIO.makeDirectories(path + "/work")) != nil else { return nil }
        for entry in entries where entry != "work" {
            guard symlink(real + "/" + entry, path + "/" + entry) == 0 else { return nil }
        }
        return path
    }

    /// The install's home: `SPARK_HOME`, else where the `spark-submit` on PATH resolves to (through symbolic
    /// links and a pyenv shim): its parent directory, or, for a pip install, `pyspark`'s own directory.
    static func realHome(submit: String, environment: [String: String]) -> String? {
        if let home = environment["SPARK_HOME"], !home.isEmpty { return resolved(home) }
        let script = resolved(submit)
        let bin = FileIO.parentDirectory(script)
        let parent = FileIO.parentDirectory(bin)
        if FileIO.isDirectory(parent + "/jars") { return parent }
        // pip: spark-submit in the environment's bin, next to find_spark_home.py; or a pyenv shim before it.
        let python = environment["PYSPARK_DRIVER_PYTHON"] ?? environment["PYSPARK_PYTHON"] ?? "python3"
        let importing = [python, "-c", "import os, pyspark; print(os.path.dirname(pyspark.__file__))"]
        let finder = bin + "/find_spark_home.py"
        guard
            let output = (FileIO.exists(finder) ? SparkTools.output(of: [python, finder], environment: environment) : nil)
                ?? SparkTools.output(of: importing, environment: environment)
        else { return nil }
        let home = output.trimmingCharacters(in: .whitespacesAndNewlines)
        return FileIO.isDirectory(home + "/jars") ? resolved(home) : nil
    }

    static func resolved(_ path: String) -> String {
        guard let pointer = realpath(path, nil) else { return path }
        defer { free(pointer) }
        return String(cString: pointer)
    }
}
