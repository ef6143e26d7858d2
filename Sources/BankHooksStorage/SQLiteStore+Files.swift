import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

extension SQLiteStore {
    /// Makes the database readable by its owner only (mode 0600), before SQLite opens it: a new file
    /// is created private (never readable by others, not even briefly), and an existing one, with its
    /// `-wal` and `-shm`, loses any group and other permissions (when this process owns it). SQLite creates `-wal` and `-shm`
    /// with the database file's own permissions, so they are private too.
    static func makePrivate(databasePath path: String) throws {
        let descriptor = open(path, O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0o600)
        if descriptor >= 0 {
            close(descriptor)
            return
        }
        guard errno == EEXIST else { throw StoreError(.invalidValue, "could not create the database file \(path) (errno \(errno))") }
        for file in [path, path + "-wal", path + "-shm"] {
            var info = stat()
            // Best effort for files made by an older version: one this process does not own keeps its mode.
            if stat(file, &info) == 0, info.st_mode & 0o077 != 0 { _ = chmod(file, info.st_mode & 0o700) }
        }
    }
}
