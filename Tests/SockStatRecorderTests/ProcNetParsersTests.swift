#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Testing
@testable import SockStatRecorder

// MARK: - Fixtures

/// `/proc/net/dev` and `/proc/net/route` texts, byte for byte.
///
/// The real ones were read on the machine these tests were written on
/// (Linux 6.18, x86_64): its own two files, and files the kernel printed in
/// a private network namespace (`unshare -rn`) after `ip link add` and
/// `ip route add` made odd interfaces and routes there. The others stand for
/// hosts that machine is not; they were printed with the kernel's own
/// formats, quoted above `ProcNetDev` and `ProcNetRoute`.
///
/// Route lines keep the kernel's padding to 127 bytes; tabs are written
/// `\t`, and each line ends in an explicit `\n\` so that no source line
/// ends in blanks an editor could strip.
enum ProcNetFixtures {
    // MARK: Real

    /// This machine's `/proc/net/dev`: loopback, two idle `ifb`, `eth0`.
    static let thisMachineDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:  371438    2036    0    0    0     0          0         0   371438    2036    0    0    0     0       0          0
          ifb0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
          ifb1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
          eth0: 74876078    1371    0    0    0     0          0         0    67343     956    0    0    0     0       0          0

        """

    /// This machine's `/proc/net/route`: one default route, one link route.
    static let thisMachineRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0                                                                               \n\
        eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               \n
        """

    /// A namespace's `/proc/net/dev`, after 200 MiB over loopback (9-digit
    /// values), a veth pair named `rmnet_data0`/`wlan0` (which `ip link`
    /// shows as `wlan0@rmnet_data0`: the `@` is its notation, not the name),
    /// an interface really named `eth0@if5` (the kernel allows `@`), one of
    /// 15 bytes (the maximum) and a UTF-8 name of 5 characters and 6 bytes
    /// (`%6s` counts bytes, so it gets no padding). The kernel refused
    /// `à0` (its `isspace` counts the byte 0xA0 of `à`) and `a:b`.
    static let namespaceDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: 210425553    4843    0    0    0     0          0         0 210425553    4843    0    0    0     0       0          0
         wlan0:     180       2    0    0    0     0          0         0       90       1    0    0    0     0       0          0
        rmnet_data0:      90       1    0    0    0     0          0         0      180       2    0    0    0     0       0          0
        eth0@if5:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        veth1a2b3c4d5e6:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        wlän0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0

        """

    /// A namespace's `/proc/net/route` with four default routes: metric
    /// 100 on `rmnet_data0`, 600 and 4294967295 on `wlan0`, and
    /// `unreachable default metric 9999`, whose interface the kernel prints
    /// as `*` with `RTF_REJECT` (0x0200); then link routes and a blackhole.
    static let namespaceRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        rmnet_data0\t00000000\t011E140A\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                      \n\
        wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0                                                                            \n\
        *\t00000000\t00000000\t0201\t0\t0\t9999\t00000000\t0\t0\t0                                                                               \n\
        wlan0\t00000000\t0101A8C0\t0003\t0\t0\t4294967295\t00000000\t0\t0\t0                                                                     \n\
        rmnet_data0\t001E140A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                        \n\
        wlan0\t0001A8C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                              \n\
        *\t007100CB\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                                  \n
        """

    /// A VPN's split default (`0.0.0.0/1` and `128.0.0.0/1` on `tun0`) over
    /// a default route on `eth0`: the kernel lists the `/1` first, and its
    /// destination is 0 too (only the mask, which is not read, differs).
    static let splitDefaultRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        tun0\t00000000\t0100080A\t0003\t0\t0\t0\t00000080\t0\t0\t0                                                                               \n\
        eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                             \n\
        eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               \n\
        tun0\t0000080A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               \n\
        tun0\t00000080\t0100080A\t0003\t0\t0\t0\t00000080\t0\t0\t0                                                                               \n
        """

    /// Link and gateway routes but no default route.
    static let noDefaultRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        eth0\t0000000A\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0                                                                               \n\
        eth0\t0000090A\t0100000A\t0003\t0\t0\t0\t0000FFFF\t0\t0\t0                                                                               \n
        """

    /// A namespace with only loopback up: the main table exists but is
    /// empty. (Before any interface is up there is no main table, and the
    /// file is empty, without even the header.)
    static let headerOnlyRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n
        """

    // MARK: Written out

    /// A Qualcomm Android phone on mobile data: `rmnet_data*` over
    /// `rmnet_ipa0`, `r_rmnet_data0`, Wi-Fi off (`wlan0`, `p2p0`,
    /// `wifi-aware0`), the tunnels Android creates at boot.
    static let qualcommPhoneDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: 2841120   21377    0    0    0     0          0         0  2841120   21377    0    0    0     0       0          0
        ip_vti0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        ip6_vti0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
          sit0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        ip6tnl0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        dummy0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        rmnet_ipa0: 2210937344 1658870    0    0    0     0          0         0 131440512 1032411    0    0    0     0       0          0
        rmnet_data0: 2148302197 1601344    0    0    0     0          0         0 127733904 1003172    0   17    0     0       0          0
        rmnet_data1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        rmnet_data2: 1187322    3124    0    0    0     0          0         0   942210    2977    0    0    0     0       0          0
        r_rmnet_data0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
         wlan0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
          p2p0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        wifi-aware0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0

        """

    /// Its main table: a default route on the point-to-point `rmnet_data0`
    /// (no gateway, flags RTF_UP only) and its /29. (Android itself keeps
    /// default routes in per-network tables, not in the main table; this is
    /// the phone as a Linux host that routes through its modem.)
    static let qualcommPhoneRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        rmnet_data0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0                                                                        \n\
        rmnet_data0\t58E0FB0A\t00000000\t0001\t0\t0\t0\tF8FFFFFF\t0\t0\t0                                                                        \n
        """

    /// A MediaTek phone (`ccmni*`) with Wi-Fi and mobile data both up.
    static let mediatekPhoneDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:   98210     944    0    0    0     0          0         0    98210     944    0    0    0     0       0          0
        ccmni0: 81277390   72213    0    0    0     0          0         0  9120433   51120    0    0    0     0       0          0
        ccmni1:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        ccmni2:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
         wlan0: 612003144  480122    0    0    0     0          0      2210 41998002  301877    0    0    0     0       0          0
          p2p0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0

        """

    /// Its routes with the metrics NetworkManager gives: Wi-Fi 600, mobile
    /// broadband 700; Wi-Fi wins.
    static let mediatekPhoneRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        wlan0\t00000000\t0101A8C0\t0003\t0\t0\t600\t00000000\t0\t0\t0                                                                            \n\
        ccmni0\t00000000\t00000000\t0001\t0\t0\t700\t00000000\t0\t0\t0                                                                           \n\
        ccmni0\t604DA30A\t00000000\t0001\t0\t0\t700\tE0FFFFFF\t0\t0\t0                                                                           \n\
        wlan0\t0001A8C0\t00000000\t0001\t0\t0\t600\t00FFFFFF\t0\t0\t0                                                                            \n
        """

    /// The same phone once Wi-Fi is gone.
    static let mediatekPhoneWithoutWiFiRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        ccmni0\t00000000\t00000000\t0001\t0\t0\t700\t00000000\t0\t0\t0                                                                           \n\
        ccmni0\t604DA30A\t00000000\t0001\t0\t0\t700\tE0FFFFFF\t0\t0\t0                                                                           \n
        """

    /// An OpenWrt 23.05 router (ath79: 32-bit big-endian MIPS, Linux 5.15):
    /// `eth0` with its VLANs `eth0.1` and `eth0.2`, `br-lan`, radios
    /// `phy0-ap0`/`phy1-ap0`, `pppoe-wan` and its SQM `ifb4pppoe-wan`, a
    /// WireGuard `wg0`. `eth0`'s driver counts in the `unsigned long` of
    /// `struct net_device_stats`, 32 bits there, so it wraps at 2^32 and both
    /// its values sit just under; the 64-bit counters of the others do not.
    static let openWrtRouterDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: 1338020   14110    0    0    0     0          0         0  1338020   14110    0    0    0     0       0          0
          eth0: 4294967040 402811377    0    0    0     0          0         0 4293820311 377110244    0    0    0     0       0          0
        eth0.1: 2201938471 9011822    0    0    0     0          0         0 19873320110 15022081    0    0    0     0       0          0
        eth0.2: 19873411288 15029102    0    0    0     0          0         0 2201244911 9004877    0    0    0     0       0          0
        br-lan: 2077361810 8899212    0    0    0     0          0     11201 19411022133 14999803    0    0    0     0       0          0
        phy0-ap0: 933201877 1220344    0    0    0     0          0         0 8811200344 6611029    0    0    0     0       0          0
        phy1-ap0: 5120339   40122    0    0    0     0          0         0 77110290   61002    0    0    0     0       0          0
        pppoe-wan: 19522301004 14988211    0    0    0     0          0         0 2110377102 8977104    0    0    0     0       0          0
        ifb4pppoe-wan: 19522299112 14988203    0    0    0     0          0         0 19522299112 14988203    0    0    0     0       0          0
           wg0: 88112044  211003    0    0    0     0          0         0 20117330  180224    0    0    0     0       0          0

        """

    /// Its routes, big-endian: addresses print in reading order
    /// (`C0A80100` is 192.168.1.0; a little-endian host prints `0001A8C0`).
    static let openWrtRouterRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        pppoe-wan\t00000000\t64400001\t0003\t0\t0\t0\t00000000\t0\t0\t0                                                                          \n\
        wg0\t0A0E0000\t00000000\t0001\t0\t0\t0\tFFFFFF00\t0\t0\t0                                                                                \n\
        pppoe-wan\t64400001\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                          \n\
        br-lan\tC0A80100\t00000000\t0001\t0\t0\t0\tFFFFFF00\t0\t0\t0                                                                             \n
        """

    /// A Kubernetes node with Calico: `ens5`, `docker0`, `tunl0`,
    /// `vxlan.calico`, `kube-ipvs0`, `nodelocaldns` and 24 pods' `cali` +
    /// 11 hex digits (15 bytes each).
    static let kubernetesNodeDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo: 410233918 3302114    0    0    0     0          0         0 410233918 3302114    0    0    0     0       0          0
          ens5: 9871223310293 6120044391    0    0    0     0          0        40 3312094402211 2811093302    0    0    0     0       0          0
        docker0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
         tunl0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        vxlan.calico: 88201934411 61220391    0    0    0     0          0         0 90112033822 63002918    0    0    0     0       0          0
        kube-ipvs0:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        nodelocaldns:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0
        calib4967006381: 1000003       7    0    0    0     0          0         0  2000029      11    0    0    0     0       0          0
        calid7ee1970529: 8000024      56    0    0    0     0          0         0  8000116      44    0    0    0     0       0          0
        cali122a9435e48: 27000081     189    0    0    0     0          0         0 18000261      99    0    0    0     0       0          0
        calif07facd0139: 64000192     448    0    0    0     0          0         0 32000464     176    0    0    0     0       0          0
        cali93f35d423a0: 125000375     875    0    0    0     0          0         0 50000725     275    0    0    0     0       0          0
        cali8b0b64b2144: 216000648    1512    0    0    0     0          0         0 72001044     396    0    0    0     0       0          0
        cali1b0938b82b0: 343001029    2401    0    0    0     0          0         0 98001421     539    0    0    0     0       0          0
        calif0adce9962e: 512001536    3584    0    0    0     0          0         0 128001856     704    0    0    0     0       0          0
        calia81ed051987: 729002187    5103    0    0    0     0          0         0 162002349     891    0    0    0     0       0          0
        cali6681294e2e8: 1000003000    7000    0    0    0     0          0         0 200002900    1100    0    0    0     0       0          0
        calid7ea39ac102: 1331003993    9317    0    0    0     0          0         0 242003509    1331    0    0    0     0       0          0
        cali97a975d4721: 1728005184   12096    0    0    0     0          0         0 288004176    1584    0    0    0     0       0          0
        calia248a7acaea: 2197006591   15379    0    0    0     0          0         0 338004901    1859    0    0    0     0       0          0
        cali13384c6c829: 2744008232   19208    0    0    0     0          0         0 392005684    2156    0    0    0     0       0          0
        cali77dd140015e: 3375010125   23625    0    0    0     0          0         0 450006525    2475    0    0    0     0       0          0
        cali3e89769380b: 4096012288   28672    0    0    0     0          0         0 512007424    2816    0    0    0     0       0          0
        calicd7dc7f87b3: 4913014739   34391    0    0    0     0          0         0 578008381    3179    0    0    0     0       0          0
        cali2dc9956080c: 5832017496   40824    0    0    0     0          0         0 648009396    3564    0    0    0     0       0          0
        cali8318b61219a: 6859020577   48013    0    0    0     0          0         0 722010469    3971    0    0    0     0       0          0
        calie49be4264d9: 8000024000   56000    0    0    0     0          0         0 800011600    4400    0    0    0     0       0          0
        calice097fae3ce: 9261027783   64827    0    0    0     0          0         0 882012789    4851    0    0    0     0       0          0
        cali403d9b529fa: 10648031944   74536    0    0    0     0          0         0 968014036    5324    0    0    0     0       0          0
        cali51eb1444d71: 12167036501   85169    0    0    0     0          0         0 1058015341    5819    0    0    0     0       0          0
        calid0222a076f8: 13824041472   96768    0    0    0     0          0         0 1152016704    6336    0    0    0     0       0          0

        """

    /// Its routes: the DHCP default on `ens5` (metric 100), Calico's VXLAN
    /// blocks and pod host routes, `docker0`, `ens5`'s subnet.
    static let kubernetesNodeRoute = """
        Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT                                                       \n\
        ens5\t00000000\t01001FAC\t0003\t0\t0\t100\t00000000\t0\t0\t0                                                                             \n\
        calib4967006381\t0207F40A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                    \n\
        calid7ee1970529\t0307F40A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                    \n\
        cali122a9435e48\t0407F40A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                    \n\
        calif07facd0139\t0507F40A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                    \n\
        cali93f35d423a0\t0607F40A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                    \n\
        cali8b0b64b2144\t0707F40A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0                                                                    \n\
        vxlan.calico\t0040F40A\t0040F40A\t0003\t0\t0\t0\tC0FFFFFF\t0\t0\t0                                                                       \n\
        vxlan.calico\t0080F40A\t0080F40A\t0003\t0\t0\t0\tC0FFFFFF\t0\t0\t0                                                                       \n\
        vxlan.calico\t00C0F40A\t00C0F40A\t0003\t0\t0\t0\tC0FFFFFF\t0\t0\t0                                                                       \n\
        docker0\t000011AC\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0                                                                            \n\
        ens5\t00001FAC\t00000000\t0001\t0\t0\t100\t00F0FFFF\t0\t0\t0                                                                             \n\
        ens5\t01001FAC\t00000000\t0005\t0\t0\t100\tFFFFFFFF\t0\t0\t0                                                                             \n
        """

    /// CentOS 6 (Linux 2.6.32, x86_64), whose format was `"%6s:%8lu %7lu …"`:
    /// a value of 8 digits or more touches the colon. `eth0` is a line from
    /// a fluent-bit bug report about exactly that (fluent/fluent-bit#2366).
    static let centOS6Dev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:811220332 6011240    0    0    0     0          0         0 811220332 6011240    0    0    0     0       0          0
          eth0:3742334317097 43769887866    0    0    0     0          0         0 16850348309399 47266866606    0    0    0     0       0          0
          eth1:   98012    1002    0    0    0     0          0         0     4410      63    0    0    0     0       0          0

        """

    /// OpenWrt 10.03 (Linux 2.6.32, 32-bit MIPS): the 2.6 format, counters
    /// in 32-bit `unsigned long` that wrap at 2^32, several just under.
    static let openWrtBackfireDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
            lo:   52231     744    0    0    0     0          0         0    52231     744    0    0    0     0       0          0
          eth0:4294967295 3011224    0    0    0     0          0         0 4294966913 2980113    0    0    0     0       0          0
        eth0.1:       0       0    0    0    0     0          0         0       17       1    0    0    0     0       0          0
        br-lan:4294901760 2011002    0    0    0     0          0         0   112033    1870    0    0    0     0       0          0
         wlan0:      12       1    0    0    0     0          0         0 1337733001  991200    0    0    0     0       0          0
        pppoe-wan:3999120044 2880114    0    0    0     0          0         0 4294967294 2001332    0    0    0     0       0          0

        """

    /// Counters at the edges of 32 and 64 bits, on a current kernel.
    static let counterEdgesDev = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
         wwan0: 4294967295       1    0    0    0     0          0         0 4294967296       1    0    0    0     0       0          0
         wwan1: 4294967297       1    0    0    0     0          0         0        0       0    0    0    0     0       0          0
          eth0: 18446744073709551615       1    0    0    0     0          0         0 18446744073709551614       1    0    0    0     0       0          0
          eth1: 18446744069414584320       1    0    0    0     0          0         0 9223372036854775808       1    0    0    0     0       0          0

        """

    /// The two header lines of `/proc/net/dev`, which every kernel prints.
    static let devHeader = """
        Inter-|   Receive                                                |  Transmit
         face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed

        """
}

// MARK: - Helpers

/// One parsed interface, its name decoded for readable failures (every
/// fixture name is valid UTF-8, so nothing is lost).
struct DevEntry: Equatable, Sendable, CustomStringConvertible {
    var name: String
    var rx: UInt64
    var tx: UInt64

    init(_ name: String, rx: UInt64, tx: UInt64) {
        self.name = name
        self.rx = rx
        self.tx = tx
    }

    var description: String { "\(name) rx \(rx) tx \(tx)" }
}

/// What `ProcNetDev.entries(in:)` finds in `text`.
func parsedDevices(_ text: String) -> [DevEntry] {
    Array(text.utf8).withUnsafeBufferPointer { buffer in
        ProcNetDev.entries(in: buffer).map {
            DevEntry(String(decoding: buffer[$0.name], as: UTF8.self), rx: $0.rx, tx: $0.tx)
        }
    }
}

/// What `ProcNetRoute.defaultInterface(in:)` finds in `text`.
func parsedDefaultInterface(_ text: String) -> String? {
    Array(text.utf8).withUnsafeBufferPointer { buffer in
        ProcNetRoute.defaultInterface(in: buffer).map { String(decoding: buffer[$0], as: UTF8.self) }
    }
}

/// The same file read the obvious way, with `split`: a second opinion on
/// well-formed files, written without looking at the byte parser.
func splitDevices(_ text: String) -> [DevEntry] {
    let blanks: Set<UInt8> = [UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r")]
    return text.utf8.split(separator: UInt8(ascii: "\n")).compactMap { line -> DevEntry? in
        guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else { return nil }
        let name = line[..<colon].split(whereSeparator: blanks.contains)
        let numbers = line[line.index(after: colon)...].split(whereSeparator: blanks.contains)
            .map { UInt64(String(decoding: $0, as: UTF8.self)) }
        guard name.count == 1, numbers.count >= 9, let rx = numbers[0], let tx = numbers[8] else { return nil }
        return DevEntry(String(decoding: name[0], as: UTF8.self), rx: rx, tx: tx)
    }
}

// MARK: - /proc/net/dev

struct ProcNetDevTests {
    struct DevCase: Sendable, CustomTestStringConvertible {
        var host: String
        var text: String
        var expected: [DevEntry]
        var testDescription: String { host }
    }

    static let hosts: [DevCase] = [
        DevCase(host: "this machine", text: ProcNetFixtures.thisMachineDev, expected: [
            DevEntry("lo", rx: 371_438, tx: 371_438),
            DevEntry("ifb0", rx: 0, tx: 0),
            DevEntry("ifb1", rx: 0, tx: 0),
            DevEntry("eth0", rx: 74_876_078, tx: 67_343),
        ]),
        DevCase(host: "a namespace with odd names", text: ProcNetFixtures.namespaceDev, expected: [
            DevEntry("lo", rx: 210_425_553, tx: 210_425_553),
            DevEntry("wlan0", rx: 180, tx: 90),
            DevEntry("rmnet_data0", rx: 90, tx: 180),
            DevEntry("eth0@if5", rx: 0, tx: 0),
            DevEntry("veth1a2b3c4d5e6", rx: 0, tx: 0),
            DevEntry("wlän0", rx: 0, tx: 0),
        ]),
        DevCase(host: "a Qualcomm phone", text: ProcNetFixtures.qualcommPhoneDev, expected: [
            DevEntry("lo", rx: 2_841_120, tx: 2_841_120),
            DevEntry("ip_vti0", rx: 0, tx: 0),
            DevEntry("ip6_vti0", rx: 0, tx: 0),
            DevEntry("sit0", rx: 0, tx: 0),
            DevEntry("ip6tnl0", rx: 0, tx: 0),
            DevEntry("dummy0", rx: 0, tx: 0),
            DevEntry("rmnet_ipa0", rx: 2_210_937_344, tx: 131_440_512),
            DevEntry("rmnet_data0", rx: 2_148_302_197, tx: 127_733_904),
            DevEntry("rmnet_data1", rx: 0, tx: 0),
            DevEntry("rmnet_data2", rx: 1_187_322, tx: 942_210),
            DevEntry("r_rmnet_data0", rx: 0, tx: 0),
            DevEntry("wlan0", rx: 0, tx: 0),
            DevEntry("p2p0", rx: 0, tx: 0),
            DevEntry("wifi-aware0", rx: 0, tx: 0),
        ]),
        DevCase(host: "a MediaTek phone", text: ProcNetFixtures.mediatekPhoneDev, expected: [
            DevEntry("lo", rx: 98_210, tx: 98_210),
            DevEntry("ccmni0", rx: 81_277_390, tx: 9_120_433),
            DevEntry("ccmni1", rx: 0, tx: 0),
            DevEntry("ccmni2", rx: 0, tx: 0),
            DevEntry("wlan0", rx: 612_003_144, tx: 41_998_002),
            DevEntry("p2p0", rx: 0, tx: 0),
        ]),
        DevCase(host: "an OpenWrt 23.05 router", text: ProcNetFixtures.openWrtRouterDev, expected: [
            DevEntry("lo", rx: 1_338_020, tx: 1_338_020),
            DevEntry("eth0", rx: 4_294_967_040, tx: 4_293_820_311),
            DevEntry("eth0.1", rx: 2_201_938_471, tx: 19_873_320_110),
            DevEntry("eth0.2", rx: 19_873_411_288, tx: 2_201_244_911),
            DevEntry("br-lan", rx: 2_077_361_810, tx: 19_411_022_133),
            DevEntry("phy0-ap0", rx: 933_201_877, tx: 8_811_200_344),
            DevEntry("phy1-ap0", rx: 5_120_339, tx: 77_110_290),
            DevEntry("pppoe-wan", rx: 19_522_301_004, tx: 2_110_377_102),
            DevEntry("ifb4pppoe-wan", rx: 19_522_299_112, tx: 19_522_299_112),
            DevEntry("wg0", rx: 88_112_044, tx: 20_117_330),
        ]),
        DevCase(host: "CentOS 6, values touching the colon", text: ProcNetFixtures.centOS6Dev, expected: [
            DevEntry("lo", rx: 811_220_332, tx: 811_220_332),
            DevEntry("eth0", rx: 3_742_334_317_097, tx: 16_850_348_309_399),
            DevEntry("eth1", rx: 98_012, tx: 4_410),
        ]),
        DevCase(host: "OpenWrt 10.03, 32-bit counters", text: ProcNetFixtures.openWrtBackfireDev, expected: [
            DevEntry("lo", rx: 52_231, tx: 52_231),
            DevEntry("eth0", rx: 4_294_967_295, tx: 4_294_966_913),
            DevEntry("eth0.1", rx: 0, tx: 17),
            DevEntry("br-lan", rx: 4_294_901_760, tx: 112_033),
            DevEntry("wlan0", rx: 12, tx: 1_337_733_001),
            DevEntry("pppoe-wan", rx: 3_999_120_044, tx: 4_294_967_294),
        ]),
        DevCase(host: "counters at the edges of 32 and 64 bits", text: ProcNetFixtures.counterEdgesDev, expected: [
            DevEntry("wwan0", rx: 4_294_967_295, tx: 4_294_967_296),
            DevEntry("wwan1", rx: 4_294_967_297, tx: 0),
            DevEntry("eth0", rx: UInt64.max, tx: UInt64.max - 1),
            DevEntry("eth1", rx: UInt64.max - 4_294_967_295, tx: 1 << 63),
        ]),
    ]

    @Test(arguments: hosts)
    func everyInterfaceLineGivesItsNameAndExactCounters(_ host: DevCase) {
        #expect(parsedDevices(host.text) == host.expected)
        #expect(splitDevices(host.text) == host.expected, "the second opinion agrees")
    }

    @Test func aHostWithManyInterfacesGivesEachInFileOrder() {
        let text = ProcNetFixtures.kubernetesNodeDev
        let entries = parsedDevices(text)
        #expect(entries == splitDevices(text))
        #expect(entries.count == 31)
        #expect(entries.prefix(2) == [
            DevEntry("lo", rx: 410_233_918, tx: 410_233_918),
            DevEntry("ens5", rx: 9_871_223_310_293, tx: 3_312_094_402_211),
        ])
        #expect(entries.last == DevEntry("calid0222a076f8", rx: 13_824_041_472, tx: 1_152_016_704))
        let pods = entries.filter { $0.name.hasPrefix("cali") }
        #expect(pods.count == 24)
        #expect(pods.allSatisfy { $0.name.utf8.count == 15 })
    }

    @Test(arguments: hosts)
    func crlfLineEndsGiveTheSameEntries(_ host: DevCase) {
        // The kernel never writes `\r`, but a blank it is, like the parser's
        // other blanks, and it must not hide the ninth number.
        let crlf = String(decoding: host.text.utf8.flatMap { $0 == UInt8(ascii: "\n") ? [13, 10] : [$0] }, as: UTF8.self)
        #expect(parsedDevices(crlf) == host.expected)
    }

    @Test func thisMachinesLiveFileParsesLikeTheSecondOpinion() throws {
        // The live file, not the copy: whatever this kernel prints today.
        var text: [UInt8] = []
        let file = try #require(fopen("/proc/net/dev", "r"))
        defer { fclose(file) }
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let count = fread(&chunk, 1, chunk.count, file)
            guard count > 0 else { break }
            text += chunk[0..<count]
        }
        let live = String(decoding: text, as: UTF8.self)
        let entries = parsedDevices(live)
        #expect(!entries.isEmpty)
        #expect(entries == splitDevices(live))
    }

    /// Single lines, as the kernel prints them (unless said otherwise),
    /// and what the parser makes of each.
    static let lines: [(String, String, DevEntry?)] = [
        ("a short name is right-aligned in 6 bytes",
         "    lo:  371438    2036    0    0    0     0          0         0   371438    2036    0    0    0     0       0          0",
         DevEntry("lo", rx: 371_438, tx: 371_438)),
        ("a 6-byte name fills the field",
         "br-lan: 2077361810 8899212    0    0    0     0          0     11201 19411022133 14999803    0    0    0     0       0          0",
         DevEntry("br-lan", rx: 2_077_361_810, tx: 19_411_022_133)),
        ("a 15-byte name, the longest Linux allows, starts the line",
         "veth1a2b3c4d5e6:       0       0    0    0    0     0          0         0        0       0    0    0    0     0       0          0",
         DevEntry("veth1a2b3c4d5e6", rx: 0, tx: 0)),
        ("a 16-byte name parses: the parser reads syntax, not the kernel's rules",
         "veth1a2b3c4d5e6f: 1 0 0 0 0 0 0 0 2 0 0 0 0 0 0 0",
         DevEntry("veth1a2b3c4d5e6f", rx: 1, tx: 2)),
        ("dots, dashes and underscores are name bytes",
         "vxlan.calico: 88201934411 61220391    0    0    0     0          0         0 90112033822 63002918    0    0    0     0       0          0",
         DevEntry("vxlan.calico", rx: 88_201_934_411, tx: 90_112_033_822)),
        ("an @ is a name byte",
         "eth0@if5:       7       1    0    0    0     0          0         0        9       1    0    0    0     0       0          0",
         DevEntry("eth0@if5", rx: 7, tx: 9)),
        ("a UTF-8 name is padded by its bytes, not its characters",
         "   ü0:       5       1    0    0    0     0          0         0        6       1    0    0    0     0       0          0",
         DevEntry("ü0", rx: 5, tx: 6)),
        ("Linux 2.6: a 13-digit rx touches the colon",
         "  eth0:3742334317097 43769887866    0    0    0     0          0         0 16850348309399 47266866606    0    0    0     0       0          0",
         DevEntry("eth0", rx: 3_742_334_317_097, tx: 16_850_348_309_399)),
        ("Linux 2.6: an 8-digit rx touches the colon",
         "    lo:12345678   81212    0    0    0     0          0         0 12345678   81212    0    0    0     0       0          0",
         DevEntry("lo", rx: 12_345_678, tx: 12_345_678)),
        ("Linux 2.6: a short rx is still padded",
         "  eth1:   98012    1002    0    0    0     0          0         0     4410      63    0    0    0     0       0          0",
         DevEntry("eth1", rx: 98_012, tx: 4_410)),
        ("a value wider than its column pushes the rest along",
         "  ens5: 9871223310293 6120044391    0    0    0     0          0        40 3312094402211 2811093302    0    0    0     0       0          0",
         DevEntry("ens5", rx: 9_871_223_310_293, tx: 3_312_094_402_211)),
        ("just under 2^32, where 32-bit counters wrap",
         "  eth0:4294967295 3011224    0    0    0     0          0         0 4294966913 2980113    0    0    0     0       0          0",
         DevEntry("eth0", rx: 4_294_967_295, tx: 4_294_966_913)),
        ("UInt64.max is a value",
         "  eth0: 18446744073709551615       1    0    0    0     0          0         0 18446744073709551615       1    0    0    0     0       0          0",
         DevEntry("eth0", rx: UInt64.max, tx: UInt64.max)),
        ("leading zeros are digits", "  eth0: 0000000000000000000042 0 0 0 0 0 0 0 007 0 0 0 0 0 0 0",
         DevEntry("eth0", rx: 42, tx: 7)),
        ("blanks around the colon and tabs between fields",
         "\teth0 :\t1\t2\t3\t4\t5\t6\t7\t8\t9\t10\t11\t12\t13\t14\t15\t16",
         DevEntry("eth0", rx: 1, tx: 9)),
        ("exactly nine numbers are enough", "  ppp0: 10 2 3 4 5 6 7 8 20", DevEntry("ppp0", rx: 10, tx: 20)),
        ("what follows the ninth number is not read", "  ppp0: 10 2 3 4 5 6 7 8 20 x -1 ?",
         DevEntry("ppp0", rx: 10, tx: 20)),
        ("the first colon ends the name", "  a:b: 1 2 3 4 5 6 7 8 9", nil),
        ("the first header line", "Inter-|   Receive                                                |  Transmit", nil),
        ("the second header line",
         " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed",
         nil),
        ("no colon", "  eth0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", nil),
        ("an empty name", "      : 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16", nil),
        ("a lone colon", ":", nil),
        ("an empty line", "", nil),
        ("blanks only", " \t\r ", nil),
        ("nothing after the colon", "  eth0:", nil),
        ("eight numbers", "  eth0: 1 2 3 4 5 6 7 8", nil),
        ("rx one over UInt64.max", "  eth0: 18446744073709551616 2 3 4 5 6 7 8 9", nil),
        ("tx one over UInt64.max", "  eth0: 1 2 3 4 5 6 7 8 18446744073709551616", nil),
        ("a word among the first nine", "  eth0: 1 2 x 4 5 6 7 8 9", nil),
        ("digits glued to a letter", "  eth0: 1 2 3k 4 5 6 7 8 9", nil),
        ("garbage glued to the ninth number", "  eth0: 1 2 3 4 5 6 7 8 9x", nil),
        ("a negative number", "  eth0: -1 2 3 4 5 6 7 8 9", nil),
        ("a sign", "  eth0: +1 2 3 4 5 6 7 8 9", nil),
        ("a hexadecimal number", "  eth0: 0x1 2 3 4 5 6 7 8 9", nil),
    ]

    @Test(arguments: lines)
    func oneLine(_ what: String, _ line: String, _ expected: DevEntry?) {
        for ending in ["", "\n"] {
            #expect(parsedDevices(line + ending) == (expected.map { [$0] } ?? []), "\(what)")
        }
    }

    static let emptyTexts: [(String, String)] = [
        ("an empty file", ""),
        ("the header only", ProcNetFixtures.devHeader),
        ("the header without its last newline", String(ProcNetFixtures.devHeader.dropLast())),
        ("newlines only", "\n\n\n"),
    ]

    @Test(arguments: emptyTexts)
    func aTextWithoutInterfaceLinesHasNoEntries(_ what: String, _ text: String) {
        #expect(parsedDevices(text).isEmpty, "\(what)")
    }

    @Test func aNameThatComesTwiceComesBackTwiceForTheCallerToDrop() {
        let text = ProcNetFixtures.devHeader + "  eth0: 1 0 0 0 0 0 0 0 2\n wlan0: 3 0 0 0 0 0 0 0 4\n  eth0: 5 0 0 0 0 0 0 0 6\n"
        #expect(parsedDevices(text) == [
            DevEntry("eth0", rx: 1, tx: 2), DevEntry("wlan0", rx: 3, tx: 4), DevEntry("eth0", rx: 5, tx: 6),
        ])
    }

    @Test func nameRangesPointIntoTheText() {
        let text = Array(ProcNetFixtures.namespaceDev.utf8)
        text.withUnsafeBufferPointer { buffer in
            for entry in ProcNetDev.entries(in: buffer) {
                #expect(entry.name.lowerBound >= 0 && entry.name.upperBound < buffer.count)
                #expect(buffer[entry.name.upperBound] == UInt8(ascii: ":"), "the name ends at the colon")
                #expect(buffer[entry.name.lowerBound] != UInt8(ascii: " "), "leading blanks are not the name")
            }
        }
    }

    /// Every prefix of a file, as a read cut short would give: the lines it
    /// holds whole parse as in the whole file, and a cut line either drops
    /// out or keeps its name (its last value may be cut, which no reader
    /// of a prefix can tell).
    @Test(arguments: [
        ("this machine", ProcNetFixtures.thisMachineDev),
        ("a namespace with odd names", ProcNetFixtures.namespaceDev),
        ("CentOS 6", ProcNetFixtures.centOS6Dev),
    ])
    func everyPrefixParsesItsWholeLinesAsTheWholeFileDoes(_ host: String, _ text: String) {
        let bytes = Array(text.utf8)
        let whole = parsedDevices(text)
        for length in 0...bytes.count {
            let prefix = String(decoding: bytes[0..<length], as: UTF8.self)
            let wholeLines = bytes[0..<length].reduce(0) { $1 == UInt8(ascii: "\n") ? $0 + 1 : $0 }
            let complete = max(0, wholeLines - 2) // two header lines
            let entries = parsedDevices(prefix)
            #expect(Array(entries.prefix(complete)) == Array(whole.prefix(complete)), "\(host): prefix of \(length) bytes")
            #expect(entries.count <= complete + 1, "prefix of \(length) bytes")
            if entries.count == complete + 1 {
                #expect(entries.last?.name == whole[complete].name, "prefix of \(length) bytes")
            }
        }
    }
}

// MARK: - /proc/net/route

/// A route line as the kernel prints it (`"%s\t%08X\t%08X\t%04X\t%d\t%u\t%d\t%08X\t%d\t%u\t%u"`,
/// padded to 127 bytes), little-endian addresses.
private func route(_ name: String, _ destination: String = "00000000", flags: String = "0003", metric: String) -> String {
    let line = "\(name)\t\(destination)\t0101A8C0\t\(flags)\t0\t0\t\(metric)\t00000000\t0\t0\t0"
    return line + String(repeating: " ", count: max(0, 127 - line.utf8.count)) + "\n"
}

private let routeHeader = ProcNetFixtures.headerOnlyRoute

struct ProcNetRouteTests {
    struct RouteCase: Sendable, CustomTestStringConvertible {
        var what: String
        var text: String
        var defaultInterface: String?
        var testDescription: String { what }
    }

    static let hosts: [RouteCase] = [
        RouteCase(what: "this machine", text: ProcNetFixtures.thisMachineRoute, defaultInterface: "eth0"),
        RouteCase(what: "four defaults: the lowest metric wins over 600, 9999 (unreachable) and 4294967295",
                  text: ProcNetFixtures.namespaceRoute, defaultInterface: "rmnet_data0"),
        // Destination 0 is the rule, so the VPN's 0.0.0.0/1 counts as a
        // default route; it is where the kernel sends half the addresses.
        RouteCase(what: "a VPN's split default is listed first with metric 0",
                  text: ProcNetFixtures.splitDefaultRoute, defaultInterface: "tun0"),
        RouteCase(what: "no default route", text: ProcNetFixtures.noDefaultRoute, defaultInterface: nil),
        RouteCase(what: "the header only", text: ProcNetFixtures.headerOnlyRoute, defaultInterface: nil),
        RouteCase(what: "an empty file, as without a main table", text: "", defaultInterface: nil),
        RouteCase(what: "a Qualcomm phone on mobile data", text: ProcNetFixtures.qualcommPhoneRoute,
                  defaultInterface: "rmnet_data0"),
        RouteCase(what: "a MediaTek phone on Wi-Fi and mobile data", text: ProcNetFixtures.mediatekPhoneRoute,
                  defaultInterface: "wlan0"),
        RouteCase(what: "a MediaTek phone on mobile data", text: ProcNetFixtures.mediatekPhoneWithoutWiFiRoute,
                  defaultInterface: "ccmni0"),
        RouteCase(what: "an OpenWrt router, big-endian", text: ProcNetFixtures.openWrtRouterRoute,
                  defaultInterface: "pppoe-wan"),
        RouteCase(what: "a Kubernetes node", text: ProcNetFixtures.kubernetesNodeRoute, defaultInterface: "ens5"),
    ]

    static let rules: [RouteCase] = [
        RouteCase(what: "the lower metric wins, listed second",
                  text: routeHeader + route("wlan0", metric: "600") + route("wwan0", metric: "100"),
                  defaultInterface: "wwan0"),
        RouteCase(what: "metrics compare as numbers, not text",
                  text: routeHeader + route("wlan0", metric: "10") + route("wwan0", metric: "9"),
                  defaultInterface: "wwan0"),
        RouteCase(what: "equal metrics: the first listed wins",
                  text: routeHeader + route("wwan0", metric: "100") + route("wlan0", metric: "100"),
                  defaultInterface: "wwan0"),
        RouteCase(what: "a default route without RTF_UP is passed over, even with the lowest metric",
                  text: routeHeader + route("wwan0", flags: "0002", metric: "0") + route("wlan0", metric: "600"),
                  defaultInterface: "wlan0"),
        RouteCase(what: "only routes without RTF_UP: none",
                  text: routeHeader + route("wwan0", flags: "0000", metric: "0"), defaultInterface: nil),
        RouteCase(what: "RTF_UP among other flags counts",
                  text: routeHeader + route("ccmni0", flags: "0803", metric: "0"), defaultInterface: "ccmni0"),
        RouteCase(what: "flags in lowercase hexadecimal",
                  text: routeHeader + route("ccmni0", flags: "080b", metric: "0"), defaultInterface: "ccmni0"),
        RouteCase(what: "an unreachable default with the lowest metric gives the kernel's `*`",
                  text: routeHeader + route("*", flags: "0201", metric: "0") + route("wlan0", metric: "600"),
                  defaultInterface: "*"),
        RouteCase(what: "a non-default route is passed over",
                  text: routeHeader + route("wwan0", "0000A8C0", flags: "0001", metric: "0")
                      + route("wlan0", metric: "600"),
                  defaultInterface: "wlan0"),
        RouteCase(what: "the header's words are not numbers", text: routeHeader, defaultInterface: nil),
        RouteCase(what: "a line of two fields is passed over",
                  text: routeHeader + "rmnet0\t00000000\n" + route("pdp_ip0", metric: "5"), defaultInterface: "pdp_ip0"),
        RouteCase(what: "a line without a metric is passed over",
                  text: routeHeader + "rmnet0\t00000000\t00000000\t0003\t0\t0\n", defaultInterface: nil),
        RouteCase(what: "exactly seven fields are enough",
                  text: routeHeader + "rmnet0\t00000000\t00000000\t0003\t0\t0\t7", defaultInterface: "rmnet0"),
        RouteCase(what: "an empty interface is passed over",
                  text: routeHeader + route("", metric: "0") + route("wlan0", metric: "600"), defaultInterface: "wlan0"),
        RouteCase(what: "a destination that is not hexadecimal is passed over",
                  text: routeHeader + route("wwan0", "0000000G", metric: "0") + route("wlan0", metric: "600"),
                  defaultInterface: "wlan0"),
        RouteCase(what: "flags that are not hexadecimal are passed over",
                  text: routeHeader + route("wwan0", flags: "UG", metric: "0") + route("wlan0", metric: "600"),
                  defaultInterface: "wlan0"),
        // Older kernels print the unsigned metric with %d, so 2^31 and up
        // came out negative; such a line is passed over.
        RouteCase(what: "a negative metric is passed over",
                  text: routeHeader + route("wwan0", metric: "-1") + route("wlan0", metric: "600"),
                  defaultInterface: "wlan0"),
        RouteCase(what: "a hexadecimal metric is passed over",
                  text: routeHeader + route("wwan0", metric: "1A") + route("wlan0", metric: "600"),
                  defaultInterface: "wlan0"),
        RouteCase(what: "a metric over UInt64.max is passed over",
                  text: routeHeader + route("wwan0", metric: "18446744073709551616") + route("wlan0", metric: "600"),
                  defaultInterface: "wlan0"),
        RouteCase(what: "UInt64.max is a metric",
                  text: routeHeader + route("wwan0", metric: "18446744073709551615"), defaultInterface: "wwan0"),
        RouteCase(what: "a destination of more than eight hexadecimal zeros is still 0",
                  text: routeHeader + route("wwan0", "0000000000", metric: "0"), defaultInterface: "wwan0"),
        RouteCase(what: "blanks around fields are trimmed",
                  text: routeHeader + " wwan0 \t 00000000 \t0\t 0003 \t0\t0\t 5 \n", defaultInterface: "wwan0"),
        RouteCase(what: "CRLF line ends, `\\r` being a blank",
                  text: (routeHeader + route("wlan0", metric: "600") + route("wwan0", metric: "100"))
                      .replacingNewlines(with: "\r\n"),
                  defaultInterface: "wwan0"),
        RouteCase(what: "CRLF with the metric last on its line",
                  text: routeHeader + "wwan0\t00000000\t0\t0003\t0\t0\t5\r\n", defaultInterface: "wwan0"),
    ]

    @Test(arguments: hosts + rules)
    func theDefaultRouteIsUpHasDestinationZeroAndTheLowestMetric(_ entry: RouteCase) {
        #expect(parsedDefaultInterface(entry.text) == entry.defaultInterface)
    }

    @Test(arguments: [
        ("this machine", ProcNetFixtures.thisMachineRoute),
        ("four defaults", ProcNetFixtures.namespaceRoute),
        ("split default", ProcNetFixtures.splitDefaultRoute),
        ("no default", ProcNetFixtures.noDefaultRoute),
        ("header only", ProcNetFixtures.headerOnlyRoute),
    ])
    func realRouteLinesAreCopiedWithTheKernelsPaddingTo127Bytes(_ table: String, _ text: String) {
        let lines = text.utf8.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false)
        #expect(lines.last?.isEmpty == true, "\(table): the file ends in a newline")
        #expect(lines.dropLast().allSatisfy { $0.count == 127 }, "\(table)")
    }

    @Test func everyPrefixOfARealTableGivesNoneOrOneOfItsInterfaces() {
        let bytes = Array(ProcNetFixtures.namespaceRoute.utf8)
        for length in 0...bytes.count {
            let found = parsedDefaultInterface(String(decoding: bytes[0..<length], as: UTF8.self))
            #expect(found == nil || ["rmnet_data0", "wlan0", "*"].contains(found!), "prefix of \(length) bytes")
        }
    }
}

extension String {
    /// The text with every `\n` replaced.
    fileprivate func replacingNewlines(with ending: String) -> String {
        split(separator: "\n", omittingEmptySubsequences: false).joined(separator: ending)
    }
}
