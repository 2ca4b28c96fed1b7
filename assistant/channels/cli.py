"""`parley worker`: inbound channel messages, deliveries, the mailbox poller (docs/channels.md)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    """Add this package's commands to `parley`."""
    app.command("worker")(worker)


def worker(
    once: bool = typer.Option(False, "--once", help="Run one round (inbound, deliveries) and exit"),
    imap: bool = typer.Option(
        True, "--imap/--no-imap", help="Poll the IMAP mailbox (one poller per cluster)"
    ),
    status: bool = typer.Option(
        False, "--status", help="Print failed inbound and undelivered messages and exit"
    ),
) -> None:
    """Run the channel worker: inbound messages become turns, bot and agent messages are delivered with
    retries, and (in one worker of the cluster, by a lease in the database) the mailbox is polled."""
    import logging
    import signal
    import threading

    from assistant.channels.worker import ChannelWorker
    from assistant.service import SupportService
    from knowledge.settings import get_settings

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    channel_worker = ChannelWorker(SupportService(get_settings()))
    if status:
        for record in channel_worker.inbox.list(status="failed", limit=50):
            typer.echo(f"inbound {record.id} {record.message.channel} failed: {record.error}")
        for delivery in channel_worker.outbox.list(status="undelivered", limit=50):
            typer.echo(f"delivery {delivery.id} {delivery.channel} undelivered: {delivery.last_error}")
        return
    if once:
        report = channel_worker.run_once()
        r = report
        typer.echo(f"processed {r.processed}, queued {r.queued}, sent {r.sent}, failed {r.failed}")
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    typer.echo(f"parley worker running as {channel_worker.holder} (Ctrl-C to stop)")
    channel_worker.run(stop, imap=imap)
