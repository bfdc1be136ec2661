/// The limits of format v1. Writers never exceed them and readers enforce them,
/// so that no input can make a reader allocate more than these bounds allow.
///
/// They are part of the specification (`Spec/FORMAT.md`, "Limits"); changing
/// one changes the format.
public enum FormatLimits: Sendable {
    /// Longest label, in bytes.
    public static let maxLabelBytes = 1024
    /// Most labels in one event.
    public static let maxLabelsPerEvent = 1024
    /// Label ids are below this (so a reader's id table has a fixed bound).
    public static let labelIDLimit = 1 << 16
    /// Largest decompressed block payload, in bytes (4 MiB).
    public static let maxBlockBytes = 1 << 22
    /// Largest stored (compressed) block payload, in bytes (4 MiB + 64 KiB:
    /// deflate's worst-case expansion of `maxBlockBytes` fits).
    public static let maxStoredBlockBytes = (1 << 22) + (1 << 16)
    /// Largest segment file a reader accepts (64 MiB).
    public static let maxSegmentBytes = 1 << 26
    /// Longest segment header a reader accepts, in bytes.
    public static let maxHeaderBytes = 4096
}
