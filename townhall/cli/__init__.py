"""The ``townhall`` command."""

from __future__ import annotations

import click

from townhall import __version__
from townhall.cli.moderation import moderation_group
from townhall.cli.server import config_reference, init_command, migrate_command, serve_command
from townhall.cli.sites import site_group
from townhall.cli.transfer import export_command, import_command
from townhall.cli.users import user_group


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="townhall")
def main() -> None:
    """townhall: self-hosted comments and discussion for news publishers.

    Start with `townhall serve --demo`, then open http://127.0.0.1:8080/.
    """


main.add_command(serve_command)
main.add_command(init_command)
main.add_command(migrate_command)
main.add_command(config_reference)
main.add_command(site_group)
main.add_command(moderation_group)
main.add_command(user_group)
main.add_command(import_command)
main.add_command(export_command)
