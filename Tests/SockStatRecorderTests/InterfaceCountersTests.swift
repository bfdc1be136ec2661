#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import SockStatFormat
import Testing
@testable import SockStatRecorder

// MARK: - Fixtures

/// A fresh temporary directory of fixture files, removed with the object.
private final class FixtureDirectory {
    let path: String
    private var files: [String] = []

    init() {
        var template = Array("/tmp/interface-counters-tests-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(created != nil, "mkdtemp failed")
        path = template.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }

    /// Writes `text` to the file `name` in the directory and returns its path.
    @discardableResult
    func write(_ name: String, _ text: String) -> String {
        let file = path + "/" + name
        guard let handle = fopen(file, "wb") else { preconditionFailure("cannot create \(file)") }
        defer { fclose(handle) }
        let bytes = Array(text.utf8)
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, handle) }
        precondition(written == bytes.count, "short write")
        if !files.contains(file) { files.append(file) }
        return file
    }

    /// Options reading `dev` and `route` in this directory.
    func options() -> InterfaceCounters.Options {
        var options = InterfaceCounters.Options()
        options.devicesPath = path + "/dev"
        options.routesPath = path + "/route"
        return options
    }

    deinit {
        for file in files { unlink(file) }
        rmdir(path)
    }
}

private let devHeader = """
    Inter-|   Receive                                                |  Transmit
     face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed

    """

/// A /proc/net/dev line as the kernel prints it ("%6s:%8llu %7llu …").
private func devLine(_ name: String, rx: UInt64, tx: UInt64) -> String {
    let padded = String(repeating: " ", count: max(0, 6 - name.utf8.count)) + name
    return "\(padded): \(rx)    1234    0    0    0     0          0         0 \(tx)    4321    0    0    0     0       0          0\n"
}

private let routeHeader =
    "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n"

/// A /proc/net/route line, with the kernel's trailing padding.
private func routeLine(_ name: String, destination: String = "00000000", flags: String = "0003", metric: Int) -> String {
    "\(name)\t\(destination)\t0100A8C0\t\(flags)\t0\t0\t\(metric)\t00000000\t0\t0\t0                                                                               \n"
}

/// The snapshot as (name, tx, rx) triples, in order.
private func entries(_ snapshot: CounterSnapshot) -> [Entry] {
    (0..<snapshot.count).map { Entry(snapshot.labels[$0].description, tx: snapshot.tx[$0], rx: snapshot.rx[$0]) }
}

private struct Entry: Equatable, CustomStringConvertible {
    var name: String
    var tx: UInt64
    var rx: UInt64
    init(_ name: String, tx: UInt64, rx: UInt64) {
        self.name = name
        self.tx = tx
        self.rx = rx
    }
    var description: String { "\(name) tx \(tx) rx \(rx)" }
}

/// The base address of a label's byte storage: equal addresses mean the same
/// storage, reused rather than rebuilt.
private func storage(_ label: Label) -> UnsafePointer<UInt8>? {
    label.bytes.withUnsafeBufferPointer { $0.baseAddress }
}

// MARK: - /proc/net/dev

struct InterfaceCountersTests {
    static let realisticDev = devHeader
        + devLine("lo", rx: 1_234_567, tx: 1_234_567)
        + devLine("eth0", rx: 987_654_321, tx: 12_345_678)
        // 64-bit values near the top; the colon touches the first number.
        + "wlan0:18446744073709551615 99 0 0 0 0 0 0 18446744073709551614 77 0 0 0 0 0 0\n"
        + "rmnet_data0:  5000  10  0  0  0  0  0  0  7000  12  0  0  0  0  0  0\n"
        // A 15-byte name, the longest Linux allows, touching the colon.
        + "veth1a2b3c4d5e6:42 1 0 0 0 0 0 0 43 1 0 0 0 0 0 0\n"

    @Test func parsesARealisticDevicesFileLeavingOutLoopback() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", Self.realisticDev)
        let source = InterfaceCounters(options: fixtures.options())
        var snapshot = CounterSnapshot()
        try source.read(into: &snapshot)
        #expect(entries(snapshot) == [
            Entry("eth0", tx: 12_345_678, rx: 987_654_321),
            Entry("wlan0", tx: UInt64.max - 1, rx: UInt64.max),
            Entry("rmnet_data0", tx: 7000, rx: 5000),
            Entry("veth1a2b3c4d5e6", tx: 43, rx: 42),
        ])
        #expect(snapshot.isCellular == false, "no routes file: not cellular")
    }

    @Test func excludedPatternsChooseWhatIsLeftOut() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", Self.realisticDev)
        var options = fixtures.options()
        options.excludedPatterns = []
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: options).read(into: &snapshot)
        #expect(snapshot.labels.map(\.description) == ["lo", "eth0", "wlan0", "rmnet_data0", "veth1a2b3c4d5e6"])
        #expect(snapshot.tx[0] == 1_234_567)

        options.excludedPatterns = ["veth*", "lo", "?lan0"]
        try InterfaceCounters(options: options).read(into: &snapshot)
        #expect(snapshot.labels.map(\.description) == ["eth0", "rmnet_data0"])
    }

    @Test func defaultOptionsReadProcAndExcludeLoopback() {
        let options = InterfaceCounters.Options()
        #expect(options.devicesPath == "/proc/net/dev")
        #expect(options.routesPath == "/proc/net/route")
        #expect(options.cellularPatterns == ["wwan*", "rmnet*", "ccmni*", "pdp_ip*"])
        #expect(options.excludedPatterns == ["lo"])
    }

    /// Lines that must be skipped, each placed between two good lines.
    static let malformedLines: [(String, String)] = [
        ("no colon", "  bad0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"),
        ("eight numbers", "  bad0: 1 2 3 4 5 6 7 8\n"),
        ("nothing after the colon", "  bad0:\n"),
        ("rx bytes overflow UInt64", "  bad0: 18446744073709551616 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"),
        ("tx bytes overflow UInt64", "  bad0: 1 2 3 4 5 6 7 8 99999999999999999999 10 11 12 13 14 15 16\n"),
        ("a word among the numbers", "  bad0: 1 2 x 4 5 6 7 8 9 10 11 12 13 14 15 16\n"),
        ("digits glued to a letter", "  bad0: 1 2 3k 4 5 6 7 8 9 10 11 12 13 14 15 16\n"),
        ("a negative number", "  bad0: -1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"),
        ("an empty name", "      : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n"),
        ("an empty line", "\n"),
        ("a lone colon", ":\n"),
    ]

    @Test(arguments: malformedLines)
    func malformedDeviceLinesAreSkipped(_ name: String, _ line: String) throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", devHeader + devLine("eth0", rx: 1, tx: 2) + line + devLine("wlan0", rx: 3, tx: 4))
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: fixtures.options()).read(into: &snapshot)
        #expect(entries(snapshot) == [Entry("eth0", tx: 2, rx: 1), Entry("wlan0", tx: 4, rx: 3)], "\(name)")
    }

    @Test func exactlyNineNumbersAreEnoughAndTheLastLineNeedsNoNewline() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", devHeader + "  ppp0: 10 2 3 4 5 6 7 8 20\n  tun0: 1 0 0 0 0 0 0 0 18446744073709551615")
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: fixtures.options()).read(into: &snapshot)
        #expect(entries(snapshot) == [Entry("ppp0", tx: 20, rx: 10), Entry("tun0", tx: UInt64.max, rx: 1)])
    }

    @Test func aNameRepeatedInOneFileIsRecordedOnceWithItsFirstValues() throws {
        let fixtures = FixtureDirectory()
        let dev = devHeader + devLine("eth0", rx: 1, tx: 2) + devLine("wlan0", rx: 3, tx: 4) + devLine("eth0", rx: 5, tx: 6)
        fixtures.write("dev", dev)
        let source = InterfaceCounters(options: fixtures.options())
        var snapshot = CounterSnapshot()
        // The first read finds eth0 new; the second finds it in the cache.
        for _ in 0..<2 {
            try source.read(into: &snapshot)
            #expect(entries(snapshot) == [Entry("eth0", tx: 2, rx: 1), Entry("wlan0", tx: 4, rx: 3)])
        }
    }

    @Test func consecutiveReadsReuseTheSameLabelStorageAndGiveTheSameValues() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", Self.realisticDev)
        let source = InterfaceCounters(options: fixtures.options())
        var first = CounterSnapshot()
        var second = CounterSnapshot()
        try source.read(into: &first)
        try source.read(into: &second)
        #expect(first.labels == second.labels)
        #expect(first.tx == second.tx)
        #expect(first.rx == second.rx)
        #expect(first.labels.map(storage) == second.labels.map(storage))
    }

    @Test func labelsOfRemainingInterfacesAreReusedWhenOthersComeAndGo() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", devHeader + devLine("eth0", rx: 1, tx: 1) + devLine("wlan0", rx: 2, tx: 2)
            + devLine("tun0", rx: 3, tx: 3))
        let source = InterfaceCounters(options: fixtures.options())
        var before = CounterSnapshot()
        try source.read(into: &before)
        // eth0 gone, a new interface first, the others reordered.
        fixtures.write("dev", devHeader + devLine("veth0", rx: 9, tx: 9) + devLine("tun0", rx: 4, tx: 5)
            + devLine("wlan0", rx: 6, tx: 7))
        var after = CounterSnapshot()
        try source.read(into: &after)
        #expect(entries(after) == [Entry("veth0", tx: 9, rx: 9), Entry("tun0", tx: 5, rx: 4), Entry("wlan0", tx: 7, rx: 6)])
        #expect(storage(after.labels[1]) == storage(before.labels[2]))
        #expect(storage(after.labels[2]) == storage(before.labels[1]))
    }

    /// What a closing summary names: every interface any read recorded
    /// (one that appeared mid-run, one that went away) and every one left
    /// out, each once, in the order first met.
    @Test func seenNamesEveryInterfaceAnyReadMetEachOnce() throws {
        let fixtures = FixtureDirectory()
        var options = fixtures.options()
        options.excludedPatterns = ["lo", "docker*"]
        let source = InterfaceCounters(options: options)
        #expect(source.seen == InterfaceCounters.Seen())
        var snapshot = CounterSnapshot()
        let reads = [
            [devLine("lo", rx: 1, tx: 1), devLine("eth0", rx: 1, tx: 1)],
            [devLine("lo", rx: 2, tx: 2), devLine("eth0", rx: 2, tx: 2), devLine("wlan0", rx: 1, tx: 1)],
            [devLine("docker0", rx: 1, tx: 1), devLine("wlan0", rx: 2, tx: 2)],  // eth0 gone
            [devLine("eth0", rx: 3, tx: 3), devLine("wlan0", rx: 3, tx: 3), devLine("docker0", rx: 2, tx: 2)],
        ]
        var recorded: [String] = [], leftOut: [String] = []
        for lines in reads {
            fixtures.write("dev", devHeader + lines.joined())
            try source.read(into: &snapshot)
            for label in snapshot.labels.map(\.description) where !recorded.contains(label) { recorded.append(label) }
            for line in lines {
                let name = String(line.split(separator: ":")[0]).trimmingSpaces
                if options.excludedPatterns.contains(where: { $0.matches(name) }), !leftOut.contains(name) {
                    leftOut.append(name)
                }
            }
        }
        #expect(source.seen.watched == recorded)
        #expect(source.seen.watched == ["eth0", "wlan0"])
        #expect(source.seen.excluded == leftOut)
        #expect(source.seen.excluded == ["lo", "docker0"])
    }

    @Test func aDevicesFileLargerThanTheFirstBufferIsReadWhole() throws {
        let fixtures = FixtureDirectory()
        let count = 3_000
        var dev = devHeader
        for index in 0..<count {
            dev += devLine("veth\(index)", rx: UInt64(index), tx: UInt64(index) * 2)
        }
        fixtures.write("dev", dev)
        let source = InterfaceCounters(options: fixtures.options())
        var snapshot = CounterSnapshot()
        try source.read(into: &snapshot)
        #expect(snapshot.count == count)
        #expect(entries(snapshot).last == Entry("veth\(count - 1)", tx: UInt64(count - 1) * 2, rx: UInt64(count - 1)))
        let labels = snapshot.labels
        try source.read(into: &snapshot)
        #expect(snapshot.labels.map(storage) == labels.map(storage))
    }

    @Test func aMissingDevicesFileIsAnErrorNamingThePath() throws {
        let fixtures = FixtureDirectory()
        let options = fixtures.options()
        var snapshot = CounterSnapshot()
        snapshot.append(Label("stale"), tx: 1, rx: 1)
        let error = #expect(throws: InterfaceCountersError.self) {
            try InterfaceCounters(options: options).read(into: &snapshot)
        }
        #expect(error?.path == options.devicesPath)
        #expect(error?.code == .cannotOpen)
        #expect(error?.description == "\(options.devicesPath): cannot open: No such file or directory")
        #expect(snapshot.count == 0, "a failed read leaves the snapshot empty")
    }

    @Test func aDevicesPathThatIsADirectoryIsAReadError() {
        let fixtures = FixtureDirectory()
        var options = fixtures.options()
        options.devicesPath = fixtures.path
        var snapshot = CounterSnapshot()
        let error = #expect(throws: InterfaceCountersError.self) {
            try InterfaceCounters(options: options).read(into: &snapshot)
        }
        #expect(error?.code == .cannotRead)
        #expect(error?.description.hasPrefix("\(fixtures.path): cannot read: ") == true)
    }

    @Test func aDevicesFileOverTheLimitIsAnError() throws {
        let fixtures = FixtureDirectory()
        let dev = devHeader + devLine("eth0", rx: 1, tx: 2)
        fixtures.write("dev", dev)
        var options = fixtures.options()
        var snapshot = CounterSnapshot()
        options.maxFileBytes = dev.utf8.count
        try InterfaceCounters(options: options).read(into: &snapshot)
        #expect(snapshot.count == 1, "a file exactly at the limit is read")
        options.maxFileBytes = dev.utf8.count - 1
        let error = #expect(throws: InterfaceCountersError.self) {
            try InterfaceCounters(options: options).read(into: &snapshot)
        }
        #expect(error?.code == .tooLarge)
    }

    @Test func readsThisMachinesProcNetDev() throws {
        var options = InterfaceCounters.Options()
        options.excludedPatterns = []
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: options).read(into: &snapshot)
        #expect(snapshot.count >= 1)
        #expect(Set(snapshot.labels).count == snapshot.count, "each interface once")
    }

    // MARK: - /proc/net/route

    struct RouteCase: Sendable, CustomTestStringConvertible {
        var name: String
        var routes: String
        var cellular: Bool
        var testDescription: String { name }
    }

    static let routeCases: [RouteCase] = [
        RouteCase(name: "default route on rmnet_data0 is cellular",
                  routes: routeLine("rmnet_data0", metric: 0), cellular: true),
        RouteCase(name: "default route on wlan0 is not",
                  routes: routeLine("wlan0", metric: 600), cellular: false),
        RouteCase(name: "two default routes: the lower metric (cellular) wins",
                  routes: routeLine("wlan0", metric: 600) + routeLine("rmnet_data0", metric: 100), cellular: true),
        RouteCase(name: "two default routes: the lower metric (Wi-Fi) wins",
                  routes: routeLine("rmnet_data0", metric: 700) + routeLine("wlan0", metric: 600), cellular: false),
        RouteCase(name: "metrics compare as decimal numbers",
                  routes: routeLine("wlan0", metric: 10) + routeLine("wwan0", metric: 9), cellular: true),
        RouteCase(name: "equal metrics: the first listed wins",
                  routes: routeLine("wwan0", metric: 100) + routeLine("wlan0", metric: 100), cellular: true),
        RouteCase(name: "a default route without RTF_UP is ignored",
                  routes: routeLine("rmnet_data0", flags: "0002", metric: 0) + routeLine("wlan0", metric: 600),
                  cellular: false),
        RouteCase(name: "RTF_UP among other flags counts",
                  routes: routeLine("ccmni0", flags: "0803", metric: 0), cellular: true),
        RouteCase(name: "no default route is not cellular",
                  routes: routeLine("rmnet_data0", destination: "0000A8C0", flags: "0001", metric: 0), cellular: false),
        RouteCase(name: "an empty table is not cellular", routes: "", cellular: false),
        RouteCase(name: "a malformed line is ignored",
                  routes: "rmnet0\t00000000\n" + routeLine("pdp_ip0", metric: 5), cellular: true),
    ]

    @Test(arguments: routeCases)
    func cellularIsTheDefaultRoutesInterface(_ entry: RouteCase) throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", Self.realisticDev)
        fixtures.write("route", routeHeader + entry.routes)
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: fixtures.options()).read(into: &snapshot)
        #expect(snapshot.isCellular == entry.cellular)
        #expect(snapshot.count == 4, "routes do not change the interfaces recorded")
    }

    @Test func cellularPatternsComeFromTheOptions() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", Self.realisticDev)
        fixtures.write("route", routeHeader + routeLine("wlan0", metric: 600))
        var options = fixtures.options()
        options.cellularPatterns = ["wlan*"]
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: options).read(into: &snapshot)
        #expect(snapshot.isCellular == true)
        options.cellularPatterns = []
        try InterfaceCounters(options: options).read(into: &snapshot)
        #expect(snapshot.isCellular == false)
    }

    @Test func aMissingRoutesFileIsNotCellularAndNotAnError() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", Self.realisticDev)
        let source = InterfaceCounters(options: fixtures.options())
        var snapshot = CounterSnapshot()
        snapshot.isCellular = true
        try source.read(into: &snapshot)
        #expect(snapshot.isCellular == false)
        #expect(snapshot.count == 4)
        // Appearing later, it is read: the file is opened on every read.
        fixtures.write("route", routeHeader + routeLine("rmnet_data0", metric: 0))
        try source.read(into: &snapshot)
        #expect(snapshot.isCellular == true)
    }

    struct HostCase: Sendable, CustomTestStringConvertible {
        var host: String
        var devices: String
        var routes: String
        var cellular: Bool
        var testDescription: String { host }
    }

    static let hosts: [HostCase] = [
        HostCase(host: "this machine", devices: ProcNetFixtures.thisMachineDev,
                 routes: ProcNetFixtures.thisMachineRoute, cellular: false),
        HostCase(host: "a namespace whose lowest default is on rmnet_data0", devices: ProcNetFixtures.namespaceDev,
                 routes: ProcNetFixtures.namespaceRoute, cellular: true),
        HostCase(host: "a Qualcomm phone on mobile data", devices: ProcNetFixtures.qualcommPhoneDev,
                 routes: ProcNetFixtures.qualcommPhoneRoute, cellular: true),
        HostCase(host: "a MediaTek phone on Wi-Fi", devices: ProcNetFixtures.mediatekPhoneDev,
                 routes: ProcNetFixtures.mediatekPhoneRoute, cellular: false),
        HostCase(host: "a MediaTek phone on mobile data", devices: ProcNetFixtures.mediatekPhoneDev,
                 routes: ProcNetFixtures.mediatekPhoneWithoutWiFiRoute, cellular: true),
        HostCase(host: "an OpenWrt router", devices: ProcNetFixtures.openWrtRouterDev,
                 routes: ProcNetFixtures.openWrtRouterRoute, cellular: false),
        HostCase(host: "a Kubernetes node", devices: ProcNetFixtures.kubernetesNodeDev,
                 routes: ProcNetFixtures.kubernetesNodeRoute, cellular: false),
        HostCase(host: "a host without a default route", devices: ProcNetFixtures.thisMachineDev,
                 routes: ProcNetFixtures.noDefaultRoute, cellular: false),
        HostCase(host: "a host without a main table", devices: ProcNetFixtures.thisMachineDev,
                 routes: "", cellular: false),
    ]

    @Test(arguments: hosts)
    func aRealisticHostGivesItsInterfacesButLoopbackAndWhetherItIsCellular(_ host: HostCase) throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", host.devices)
        fixtures.write("route", host.routes)
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: fixtures.options()).read(into: &snapshot)
        let expected = parsedDevices(host.devices).filter { $0.name != "lo" }.map { Entry($0.name, tx: $0.tx, rx: $0.rx) }
        #expect(entries(snapshot) == expected)
        #expect(snapshot.isCellular == host.cellular)
        #expect(snapshot.refusedLabels == 0)
    }

    // MARK: - Names the format cannot store

    static let nameLengths: [(length: Int, recorded: Bool)] = [
        (15, true), (FormatLimits.maxLabelBytes - 1, true), (FormatLimits.maxLabelBytes, true),
        (FormatLimits.maxLabelBytes + 1, false), (64 << 10, false),
    ]

    @Test(arguments: nameLengths)
    func aNameLongerThanTheLabelLimitIsLeftOutAndCounted(_ length: Int, _ recorded: Bool) throws {
        let fixtures = FixtureDirectory()
        let name = String(repeating: "x", count: length)
        fixtures.write("dev", devHeader + devLine("eth0", rx: 1, tx: 2) + devLine(name, rx: 3, tx: 4)
            + devLine("wlan0", rx: 5, tx: 6))
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: fixtures.options()).read(into: &snapshot)
        let long = recorded ? [Entry(name, tx: 4, rx: 3)] : []
        #expect(entries(snapshot) == [Entry("eth0", tx: 2, rx: 1)] + long + [Entry("wlan0", tx: 6, rx: 5)])
        #expect(snapshot.refusedLabels == (recorded ? 0 : 1))
    }

    @Test func refusedNamesAreCountedOnceAndDoNotDisturbTheLabelCache() throws {
        let fixtures = FixtureDirectory()
        let tooLong = String(repeating: "a", count: FormatLimits.maxLabelBytes + 1)
        let alsoTooLong = String(repeating: "b", count: FormatLimits.maxLabelBytes + 1)
        fixtures.write("dev", devHeader + devLine(tooLong, rx: 1, tx: 1) + devLine("eth0", rx: 2, tx: 2)
            + devLine(alsoTooLong, rx: 3, tx: 3) + devLine(tooLong, rx: 4, tx: 4) + devLine("wlan0", rx: 5, tx: 5))
        let source = InterfaceCounters(options: fixtures.options())
        var first = CounterSnapshot()
        try source.read(into: &first)
        #expect(first.labels.map(\.description) == ["eth0", "wlan0"])
        #expect(first.refusedLabels == 2, "each name once, a repeated one too")
        var second = CounterSnapshot()
        try source.read(into: &second)
        #expect(second.refusedLabels == 2, "a total of names refused, not counted again each read")
        #expect(second.labels.map(storage) == first.labels.map(storage), "the labels kept are reused")

        let another = String(repeating: "c", count: FormatLimits.maxLabelBytes + 1)
        fixtures.write("dev", devHeader + devLine("eth0", rx: 6, tx: 6) + devLine(another, rx: 1, tx: 1)
            + devLine("wlan0", rx: 7, tx: 7))
        try source.read(into: &second)
        #expect(second.refusedLabels == 3, "a new name adds one")
        #expect(second.labels.map(storage) == first.labels.map(storage))
    }

    @Test func anExcludedLongNameIsNotCountedAsRefused() throws {
        let fixtures = FixtureDirectory()
        fixtures.write("dev", devHeader + devLine(String(repeating: "v", count: 2000), rx: 1, tx: 1)
            + devLine("eth0", rx: 2, tx: 2))
        var options = fixtures.options()
        options.excludedPatterns = ["v*"]
        var snapshot = CounterSnapshot()
        try InterfaceCounters(options: options).read(into: &snapshot)
        #expect(snapshot.labels.map(\.description) == ["eth0"])
        #expect(snapshot.refusedLabels == 0, "left out by choice, not for the format")
    }

    @Test func aFailedReadLeavesNoRefusedCount() {
        let fixtures = FixtureDirectory()
        var snapshot = CounterSnapshot()
        snapshot.refusedLabels = 5
        #expect(throws: InterfaceCountersError.self) {
            try InterfaceCounters(options: fixtures.options()).read(into: &snapshot)
        }
        #expect(snapshot.refusedLabels == 0)
    }

    @Test func removeAllResetsTheRefusedCount() {
        var snapshot = CounterSnapshot()
        snapshot.append(Label("eth0"), tx: 1, rx: 1)
        snapshot.refusedLabels = 2
        snapshot.removeAll()
        #expect(snapshot.refusedLabels == 0)
        #expect(snapshot.count == 0)
    }

    @Test func errorDescriptionIsPathColonReason() {
        let error = InterfaceCountersError(path: "/x/dev", code: .cannotOpen, reason: "cannot open: nope")
        #expect(error.description == "/x/dev: cannot open: nope")
    }
}

// MARK: - Patterns

struct InterfacePatternTests {
    static let table: [(pattern: String, name: String, matches: Bool)] = [
        ("*", "", true),
        ("*", "eth0", true),
        ("**", "x", true),
        ("?", "a", true),
        ("?", "", false),
        ("?", "ab", false),
        ("eth0", "eth0", true),
        ("eth0", "eth01", false),
        ("eth0", "eth", false),
        ("eth0", "Eth0", false),
        ("rmnet*", "rmnet", true),
        ("rmnet*", "rmnet_data0", true),
        ("rmnet*", "rmne", false),
        ("rmnet", "rmnet_data0", false),
        ("rmnet", "rmnet", true),
        ("", "", true),
        ("", "a", false),
        ("*0", "eth0", true),
        ("*0", "eth1", false),
        ("*data?", "rmnet_data0", true),
        ("*data?", "rmnet_data10", false),
        ("w?an*", "wwan0", true),
        ("w?an*", "wan0", false),
        ("a*b*c", "aXbYc", true),
        ("a*b*c", "abbbc", true),
        ("a*b*c", "abcb", false),
        ("a*a*a", "aaaa", true),
        ("a*a*a", "aa", false),
        ("lo", "lo0", false),
    ]

    @Test(arguments: table)
    func shellStyleMatching(_ pattern: String, _ name: String, _ expected: Bool) {
        let compiled = InterfacePattern(pattern)
        #expect(compiled.matches(name) == expected)
        #expect(compiled.matches(Array(name.utf8)) == expected)
        #expect(compiled.description == pattern)
    }

    @Test func aStringLiteralIsThePattern() {
        let pattern: InterfacePattern = "wwan*"
        #expect(pattern == InterfacePattern("wwan*"))
        #expect(pattern != InterfacePattern("wwan"))
        #expect(pattern.description == "wwan*")
    }

    static let lists: [(String, [String])] = [
        ("lo", ["lo"]),
        ("wwan*,rmnet*", ["wwan*", "rmnet*"]),
        (" wwan* ,\trmnet*\t, ccmni* ", ["wwan*", "rmnet*", "ccmni*"]),
        ("a b", ["a b"]),
    ]

    @Test(arguments: lists)
    func listsSplitOnCommasAndTrimBlanks(_ text: String, _ expected: [String]) throws {
        let parsed = try InterfacePattern.list(text)
        #expect(parsed == expected.map { InterfacePattern($0) })
    }

    static let badLists: [(String, Int)] = [
        ("", 1),
        ("   ", 1),
        (",a", 1),
        ("a,", 2),
        ("a,,b", 2),
        ("a, ,b", 2),
        ("a,b,\t", 3),
    ]

    @Test(arguments: badLists)
    func emptyListItemsAreErrorsNamingTheItem(_ text: String, _ item: Int) {
        let error = #expect(throws: InterfacePatternError.self) {
            try InterfacePattern.list(text)
        }
        #expect(error?.code == .emptyItem)
        #expect(error?.description == "item \(item) of \"\(text)\" is empty; give patterns separated by commas")
    }
}

private extension String {
    var trimmingSpaces: String { String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed()) }
}
