"""The nft script is text from a pure function: tested as text."""

from __future__ import annotations

import pytest

from enforcer.nft import NftSet, render_script

SET = NftSet.parse("inet filter porta25_allow")


def test_script_flushes_and_refills_both_sets_in_one_transaction():
    script = render_script(["2001:db8:1::/48", "203.0.113.7/32", "198.51.100.0/24"], SET, 42)

    assert script == (
        "# porta25 enforcer: allow-list at sequence 42, 2 IPv4 and 1 IPv6 prefixes.\n"
        "# Generated; nft -f applies it as one transaction (never half-applied).\n"
        "add table inet filter\n"
        "add set inet filter porta25_allow4 { type ipv4_addr; flags interval; }\n"
        "add set inet filter porta25_allow6 { type ipv6_addr; flags interval; }\n"
        "flush set inet filter porta25_allow4\n"
        "flush set inet filter porta25_allow6\n"
        "add element inet filter porta25_allow4 { 198.51.100.0/24, 203.0.113.7/32 }\n"
        "add element inet filter porta25_allow6 { 2001:db8:1::/48 }\n")


def test_empty_allow_list_only_flushes():
    script = render_script([], SET, 0)

    assert script.endswith("flush set inet filter porta25_allow6\n")
    assert "add element" not in script


def test_overlapping_and_adjacent_prefixes_are_merged():
    # An interval set refuses overlapping elements; one bad element fails the whole script.
    script = render_script(["198.51.100.0/24", "198.51.100.7/32", "198.51.101.0/24"], SET, 1)

    assert "porta25_allow4 { 198.51.100.0/23 }" in script


def test_long_lists_are_split_over_lines_of_one_transaction():
    prefixes = [f"10.{i // 256}.{i % 256}.1/32" for i in range(1200)]

    lines = [line for line in render_script(prefixes, SET, 9).splitlines()
             if line.startswith("add element")]

    assert [line.count(",") + 1 for line in lines] == [500, 500, 200]


@pytest.mark.parametrize("text", ["inet filter", "inet filter x y", "inet fil;ter x",
                                  "inet filter x}; flush ruleset", "ether filter x"])
def test_set_names_that_could_inject_are_refused(text):
    with pytest.raises(ValueError):
        NftSet.parse(text)
