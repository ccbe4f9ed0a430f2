#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Foundation
import Synchronization

/// A deployment's state directory, `.plexus/<name>/` in the folder `plexus run` runs
/// from: the managed broker's config, password file, ACL, log, pid file and persistence,
/// the TLS CA, the local model server's record, and the connection file the other verbs
/// read (``ManagedConnection``).
///
/// Opening it takes an exclusive lock (`flock` on `lock`) held until ``close()`` or the
/// process ends, so two runtimes of one deployment never share a broker or its files.
/// The directory is mode 0700 and every file written through ``write(_:to:mode:)`` is
/// created with its mode (0600 by default) before any byte of it is written.
public final class ManagedStateDirectory: Sendable {
    /// The directory's absolute path.
    public let path: String
    private let lockDescriptor: Mutex<Int32?>

    /// `<folder>/.plexus/<deployment>`.
    public static func path(deployment: String, in folder: String) -> String {
        URL(fileURLWithPath: folder).appendingPathComponent(".plexus").appendingPathComponent(deployment).standardizedFileURL.path
    }

    private init(path: String, lockDescriptor: Int32) {
        self.path = path
        self.lockDescriptor = Mutex(lockDescriptor)
    }

    deinit {
        if let fd = lockDescriptor.withLock({ $0 }) { systemClose(fd) }
    }

    /// Creates (if needed) and locks the state directory of `deployment` under `folder`.
    ///
    /// - Throws: ``ManagedError/alreadyRunning(directory:pid:)`` when another process holds
    ///   it; ``ManagedError/fileSystem(_:)`` when it cannot be created.
    public static func open(deployment: String, in folder: String = FileManager.default.currentDirectoryPath)
        throws(ManagedError) -> ManagedStateDirectory
    {
        let path = path(deployment: deployment, in: folder)
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
            try FileManager.default.setAttributes([.posixPermissions: 0o700], ofItemAtPath: path)
        } catch {
            throw .fileSystem("cannot create the state directory \(path): \(error.localizedDescription)")
        }
        let lockFile = "\(path)/lock"
        let fd = systemOpen(lockFile, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .fileSystem("cannot open \(lockFile): \(String(cString: strerror(errno)))") }
        guard flock(fd, LOCK_EX | LOCK_NB) == 0 else {
            systemClose(fd)
            let owner = (try? String(contentsOfFile: "\(path)/runtime.pid", encoding: .utf8))
                .flatMap { Int32($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
            throw .alreadyRunning(directory: path, pid: owner)
        }
        let directory = ManagedStateDirectory(path: path, lockDescriptor: fd)
        try directory.write("\(getpid())\n", to: "runtime.pid", mode: 0o644)
        return directory
    }

    /// The absolute path of `name` in the directory.
    public func file(_ name: String) -> String {
        "\(path)/\(name)"
    }

    /// Replaces the file `name` with `text`: written to a new file created with `mode`,
    /// then renamed over the old one, so a secret is never readable by others, not even
    /// for a moment, and a reader never sees half a file.
    public func write(_ text: String, to name: String, mode: mode_t = 0o600) throws(ManagedError) {
        try Self.write(text, toPath: file(name), mode: mode)
    }

    static func write(_ text: String, toPath target: String, mode: mode_t = 0o600) throws(ManagedError) {
        let temporary = "\(target).\(getpid()).tmp"
        unlink(temporary)
        let fd = systemOpen(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .fileSystem("cannot create \(temporary): \(String(cString: strerror(errno)))") }
        let bytes = Array(text.utf8)
        var written = 0
        while written < bytes.count {
            let result = bytes[written...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                systemClose(fd)
                unlink(temporary)
                throw .fileSystem("cannot write \(temporary): \(reason)")
            }
            written += result
        }
        fchmod(fd, mode)
        systemClose(fd)
        guard rename(temporary, target) == 0 else {
            let reason = String(cString: strerror(errno))
            unlink(temporary)
            throw .fileSystem("cannot replace \(target): \(reason)")
        }
    }

    /// Releases the lock (the files stay: the next run reuses the secrets and the CA).
    public func close() {
        unlink(file("runtime.pid"))
        if let fd = lockDescriptor.withLock({ fd -> Int32? in defer { fd = nil }; return fd }) { systemClose(fd) }
    }
}

// Free functions, so that the type's own `open`, `write` and `close` do not shadow them.
private func systemClose(_ fd: Int32) { _ = close(fd) }
private func systemOpen(_ path: String, _ flags: Int32, _ mode: mode_t) -> Int32 { open(path, flags, mode) }
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int { write(fd, buffer, count) }
