import Logging
import MrshDataPath

extension StreamContext {
    /// A context whose commands' standard error lines become debug lines of the `mrsh.stream` log ("stream:
    /// LINE"), shown with `--verbose`: what a worker and the in-process engine both give their tasks.
    public static func loggingToDebug(allowed: Bool) -> StreamContext {
        let logger = Logger(label: "mrsh.stream")
        return StreamContext(allowed: allowed, log: { logger.debug("stream: \($0)") })
    }
}
