"""Unit tests of the connlist comparison helper; they need neither kubefence nor the corpus."""

from __future__ import annotations

import pytest
from connlist_compare import (
    ALL_CONNECTIONS,
    NO_CONNECTIONS,
    AddressRange,
    ConnlistFormatError,
    IngressControllerPeer,
    IpPeer,
    PortSet,
    WorkloadPeer,
    compare_connlists,
    parse_conn,
    parse_connlist,
    parse_peer,
)

FRONTEND = "default/frontend[Deployment]"
BACKEND = "default/backend[Deployment]"


def lines(*rows: str) -> str:
    return "\n".join(rows) + "\n"


# --- connections -------------------------------------------------------------------------------


def test_all_connections_equals_explicit_full_sets() -> None:
    assert parse_conn("SCTP 1-65535,TCP 1-65535,UDP 1-65535") == ALL_CONNECTIONS
    assert parse_conn("TCP 1-100,101-65535,UDP 1-65535,SCTP 1-65535") == ALL_CONNECTIONS
    assert str(parse_conn("SCTP 1-65535,TCP 1-65535,UDP 1-65535")) == "All Connections"


def test_all_connections_differs_from_a_protocol_short_of_full() -> None:
    conn = parse_conn("SCTP 1-9002,9004-65535,TCP 1-65535,UDP 1-65535")
    assert conn != ALL_CONNECTIONS
    assert str(conn) == "SCTP 1-9002,9004-65535,TCP 1-65535,UDP 1-65535"


def test_ports_are_normalised() -> None:
    assert parse_conn("TCP 443,80,81-90,UDP 53") == parse_conn("UDP 53,TCP 80-90,443")
    assert str(parse_conn("TCP 8080,80,81,UDP 53")) == "TCP 80-81,8080,UDP 53"


def test_repeated_protocol_groups_are_united() -> None:
    assert parse_conn("TCP 80,UDP 53,TCP 443") == parse_conn("TCP 80,443,UDP 53")


def test_no_connections_is_empty() -> None:
    assert parse_conn("No Connections") == NO_CONNECTIONS
    assert NO_CONNECTIONS.is_empty()


def test_named_ports_are_kept_as_names() -> None:
    conn = parse_conn("TCP 80,http,UDP dns-udp")
    assert conn.tcp == PortSet(((80, 80),), frozenset({"http"}))
    assert conn.udp.names == frozenset({"dns-udp"})
    assert conn != parse_conn("TCP 80,UDP dns-udp")
    assert str(conn) == "TCP 80,http,UDP dns-udp"


@pytest.mark.parametrize(
    "text",
    [
        "",
        "TCP",
        "80",
        "ICMP 1",
        "TCP 0",
        "TCP 65536",
        "TCP 90-80",
        "TCP 80,UDP",
        "TCP 8_0",
        "all connections",
    ],
)
def test_invalid_connections_are_rejected(text: str) -> None:
    with pytest.raises(ConnlistFormatError):
        parse_conn(text)


# --- peers -------------------------------------------------------------------------------------


def test_peers() -> None:
    assert parse_peer(FRONTEND) == WorkloadPeer("default", "frontend", "Deployment")
    assert parse_peer("{ingress-controller}") == IngressControllerPeer()
    peer = parse_peer("0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255[External]")
    assert peer == IpPeer((AddressRange(4, 0, 0x09FFFFFF), AddressRange(4, 0x0B000000, 0xFFFFFFFF)), True)
    assert str(peer) == "0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255[External]"


def test_ipv6_peer() -> None:
    peer = parse_peer("::-ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff[External]")
    assert peer == IpPeer((AddressRange(6, 0, 2**128 - 1),), True)
    assert str(parse_peer("2001:db8::-2001:db8::ff")) == "2001:db8::-2001:db8::ff"


@pytest.mark.parametrize(
    "text", ["frontend", "default/frontend", "10.0.0.0-300.0.0.0", "10.0.0.9-10.0.0.1", "10.0.0.0-::1"]
)
def test_invalid_peers_are_rejected(text: str) -> None:
    with pytest.raises(ConnlistFormatError):
        parse_peer(text)


# --- lines -------------------------------------------------------------------------------------


def test_blank_lines_are_ignored_and_errors_name_the_line() -> None:
    assert len(parse_connlist(f"\n{FRONTEND} => {BACKEND} : TCP 80\n\n")) == 1
    with pytest.raises(ConnlistFormatError, match=r"^x\.txt:2: "):
        parse_connlist(f"{FRONTEND} => {BACKEND} : TCP 80\n{FRONTEND} -> {BACKEND} : TCP 80", "x.txt")


def test_ip_to_ip_lines_are_rejected() -> None:
    with pytest.raises(ConnlistFormatError, match="IP-to-IP"):
        parse_connlist("10.0.0.0-10.0.0.255 => 0.0.0.0-9.255.255.255[External] : All Connections")


# --- workload pairs ----------------------------------------------------------------------------


def test_equal_despite_order_and_notation() -> None:
    expected = lines(
        f"{FRONTEND} => {BACKEND} : TCP 80,81,UDP 53",
        f"{BACKEND} => {FRONTEND} : All Connections",
    )
    actual = lines(
        f"{BACKEND} => {FRONTEND} : SCTP 1-65535,TCP 1-65535,UDP 1-65535",
        "",
        f"{FRONTEND} => {BACKEND} : UDP 53,TCP 80-81",
    )
    assert compare_connlists(expected, actual) == []


def test_missing_line() -> None:
    expected = lines(f"{FRONTEND} => {BACKEND} : TCP 80", f"{BACKEND} => {FRONTEND} : All Connections")
    actual = lines(f"{BACKEND} => {FRONTEND} : All Connections")
    assert compare_connlists(expected, actual) == [f"missing: {FRONTEND} => {BACKEND} : TCP 80"]


def test_extra_line() -> None:
    actual = lines(f"{FRONTEND} => {BACKEND} : TCP 80")
    assert compare_connlists("", actual) == [f"extra: {FRONTEND} => {BACKEND} : TCP 80"]


def test_explicit_no_connections_equals_a_missing_line() -> None:
    assert compare_connlists(lines(f"{FRONTEND} => {BACKEND} : No Connections"), "") == []


def test_different_ports() -> None:
    expected = lines(f"{FRONTEND} => {BACKEND} : TCP 80")
    actual = lines(f"{FRONTEND} => {BACKEND} : TCP 80,443")
    assert compare_connlists(expected, actual) == [
        f"differs: {FRONTEND} => {BACKEND}: expected TCP 80, got TCP 80,443"
    ]


def test_all_connections_vs_nearly_all() -> None:
    expected = lines(f"{FRONTEND} => {BACKEND} : All Connections")
    actual = lines(f"{FRONTEND} => {BACKEND} : SCTP 1-65535,TCP 1-65535,UDP 1-52,54-65535")
    assert compare_connlists(expected, actual) == [
        f"differs: {FRONTEND} => {BACKEND}: expected All Connections, "
        "got SCTP 1-65535,TCP 1-65535,UDP 1-52,54-65535"
    ]


def test_ingress_controller_is_a_plain_peer() -> None:
    expected = lines(f"{{ingress-controller}} => {BACKEND} : TCP 8080")
    assert compare_connlists(expected, expected) == []
    assert compare_connlists(expected, "") == [f"missing: {{ingress-controller}} => {BACKEND} : TCP 8080"]


# --- IP peers ----------------------------------------------------------------------------------


def test_ip_ranges_split_differently_are_equal() -> None:
    expected = lines(
        f"{FRONTEND} => 0.0.0.0-9.255.255.255[External] : All Connections",
        f"{FRONTEND} => 10.0.0.0-10.255.255.255[External] : All Connections",
        f"{FRONTEND} => 11.0.0.0-255.255.255.255[External] : All Connections",
        f"0.0.0.0-127.255.255.255[External] => {FRONTEND} : TCP 53",
        f"128.0.0.0-255.255.255.255[External] => {FRONTEND} : TCP 53",
    )
    actual = lines(
        f"{FRONTEND} => 0.0.0.0-255.255.255.255[External] : All Connections",
        f"0.0.0.0-9.255.255.255,10.0.0.0-255.255.255.255[External] => {FRONTEND} : TCP 53",
    )
    assert compare_connlists(expected, actual) == []
    assert compare_connlists(actual, expected) == []


def test_ipv4_per_address_difference() -> None:
    expected = lines(
        f"{FRONTEND} => 0.0.0.0-9.255.255.255[External] : All Connections",
        f"{FRONTEND} => 10.0.0.0-10.255.255.255[External] : TCP 80",
        f"{FRONTEND} => 11.0.0.0-255.255.255.255[External] : All Connections",
    )
    actual = lines(f"{FRONTEND} => 0.0.0.0-255.255.255.255[External] : All Connections")
    assert compare_connlists(expected, actual) == [
        f"ip differs: {FRONTEND} egress 10.0.0.0-10.255.255.255: expected TCP 80, got All Connections"
    ]


def test_ip_difference_is_reported_as_maximal_ranges() -> None:
    # The actual side cuts 10/8 in two, but both halves differ the same way: one message.
    expected = lines(f"0.0.0.0-255.255.255.255[External] => {BACKEND} : TCP 80")
    actual = lines(
        f"0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255[External] => {BACKEND} : TCP 80",
        f"10.0.0.0-10.127.255.255[External] => {BACKEND} : UDP 53",
        f"10.128.0.0-10.255.255.255[External] => {BACKEND} : UDP 53",
    )
    assert compare_connlists(expected, actual) == [
        f"ip differs: {BACKEND} ingress 10.0.0.0-10.255.255.255: expected TCP 80, got UDP 53"
    ]


def test_ip_missing_addresses_mean_no_connections() -> None:
    expected = lines(f"{FRONTEND} => 0.0.0.0-255.255.255.255[External] : All Connections")
    actual = lines(f"{FRONTEND} => 0.0.0.0-9.255.255.255[External] : All Connections")
    assert compare_connlists(expected, actual) == [
        f"ip differs: {FRONTEND} egress 10.0.0.0-255.255.255.255: "
        "expected All Connections, got No Connections"
    ]


def test_overlapping_ranges_on_one_side_are_united() -> None:
    expected = lines(f"{FRONTEND} => 10.0.0.0-10.255.255.255[External] : TCP 80,UDP 53")
    actual = lines(
        f"{FRONTEND} => 10.0.0.0-10.255.255.255[External] : TCP 80",
        f"{FRONTEND} => 10.0.0.0-10.255.255.255[External] : UDP 53",
    )
    assert compare_connlists(expected, actual) == []


def test_external_mark_is_compared() -> None:
    expected = lines(f"{FRONTEND} => 10.0.0.0-10.255.255.255[External] : TCP 80")
    actual = lines(f"{FRONTEND} => 10.0.0.0-10.255.255.255 : TCP 80")
    assert compare_connlists(expected, actual) == [
        f"ip differs: {FRONTEND} egress 10.0.0.0-10.255.255.255: expected TCP 80 [External], got TCP 80"
    ]


def test_ipv6_ranges_are_compared_per_address() -> None:
    ipv6_last = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"
    expected = lines(f"{FRONTEND} => ::-{ipv6_last}[External] : TCP 80")
    actual = lines(
        f"{FRONTEND} => ::-2001:db7:ffff:ffff:ffff:ffff:ffff:ffff[External] : TCP 80",
        f"{FRONTEND} => 2001:db8::-2001:db8:ffff:ffff:ffff:ffff:ffff:ffff[External] : TCP 80",
    )
    assert compare_connlists(expected, actual) == [
        f"ip differs: {FRONTEND} egress 2001:db9::-{ipv6_last}: expected TCP 80, got No Connections"
    ]


def test_ipv4_and_ipv6_spaces_are_separate() -> None:
    expected = lines(f"{FRONTEND} => 0.0.0.0-255.255.255.255[External] : All Connections")
    actual = expected + lines(f"{FRONTEND} => ::-::ffff[External] : All Connections")
    assert compare_connlists(expected, actual) == [
        f"ip differs: {FRONTEND} egress ::-::ffff: expected No Connections, got All Connections"
    ]


def test_workload_and_ip_differences_together() -> None:
    expected = lines(
        f"{FRONTEND} => {BACKEND} : TCP 80",
        f"{FRONTEND} => 0.0.0.0-255.255.255.255[External] : All Connections",
    )
    actual = lines(f"{FRONTEND} => 0.0.0.0-255.255.255.255[External] : TCP 443")
    assert compare_connlists(expected, actual) == [
        f"missing: {FRONTEND} => {BACKEND} : TCP 80",
        f"ip differs: {FRONTEND} egress 0.0.0.0-255.255.255.255: expected All Connections, got TCP 443",
    ]
