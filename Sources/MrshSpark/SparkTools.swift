#if canImport(Glibc)
import Glibc
#endif
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

    static func onPath(_ name: String, _ environment: [String: String]) -> String? {
        for directory in (environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") where !directory.isEmpty {
            let path = directory + "/" + name
            if access(path, X_OK) == 0, !FileIO.isDirectory(path) { return path }
        }
        return nil
    }
}
