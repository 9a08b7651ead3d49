"""``python -m enforcer``: bind, resync, then serve webhooks until SIGTERM."""

from __future__ import annotations

import logging
import signal
import sys
import threading

from .config import Config, parse_config
from .nft import NftInstaller
from .receiver import Receiver, Settings
from .server import EnforcerServer
from .signature import load_webhooks
from .state import StateError

log = logging.getLogger("enforcer")


POLL = 0.1  # how soon serve_forever notices a shutdown


def stop_on_signals(server: EnforcerServer) -> None:
    """SIGTERM/SIGINT shut the server down from a helper thread.

    Raising from a signal handler instead would land wherever the main thread is,
    e.g. inside socketserver, which catches it and keeps serving.
    """
    def handler(signum, frame) -> None:
        log.info("signal %d: stopping", signum)
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def run(config: Config) -> int:
    """Serve until stopped; 1 when the state on disk cannot be trusted."""
    try:
        webhooks = load_webhooks(config.secrets)
    except ValueError as exc:
        log.error("%s", exc)
        return 2
    config.state_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    receiver = Receiver(Settings(
        state_dir=config.state_dir, allowlist_url=config.allowlist_url, token=config.token,
        nft_set=config.nft_set, resync_interval=config.resync_interval,
        nft=NftInstaller(config.state_dir, config.apply, config.nft_binary)))
    # Bind first, so the port is ours while we resync; requests wait in the backlog.
    server = EnforcerServer((config.host, config.port), receiver, webhooks)
    try:
        receiver.start()
    except StateError as exc:
        log.error("state file unreadable (%s); move it away to rebuild from the allow-list",
                  exc)
        return 1
    threading.Thread(target=receiver.run_periodic, name="resync", daemon=True).start()
    log.info("listening on %s:%d (%s, %d secret(s), state in %s)", config.host, config.port,
             "applying with nft" if config.apply else "writing nft-pending.nft",
             len(webhooks), config.state_dir)
    stop_on_signals(server)
    try:
        server.serve_forever(poll_interval=POLL)
    finally:
        receiver.stop()
        server.server_close()
        with receiver.lock:  # let an event being applied finish its writes
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    config = parse_config(argv)
    logging.basicConfig(stream=sys.stderr, level=config.log_level,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return run(config)


if __name__ == "__main__":
    sys.exit(main())
