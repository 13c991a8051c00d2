"""OPML 2.0 subscription list of the feeds, for readers that import a whole set at once.

Pure: no I/O, no clock. `dateCreated` appears only when the caller passes it, so the same
list always gives the same bytes. Feeds may be grouped: a group is an outline holding the
`rss` outlines of its feeds, which readers import as a folder or a tag.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import format_datetime
from xml.etree import ElementTree as ET

# (title, xml_url, html_url): the feed's name, the feed itself, the page it stands for.
FeedRef = tuple[str, str, str]
# (title, feeds): one folder of feeds.
FeedGroup = tuple[str, Sequence[FeedRef]]


def render_opml(
    feeds: Sequence[FeedRef] = (),
    *,
    groups: Sequence[FeedGroup] = (),
    title: str = "NAM-media feeds",
    date_created: datetime | None = None,
    owner_url: str | None = None,
) -> bytes:
    """OPML 2.0 with one `rss` outline per feed, in the order given: first the ungrouped
    `feeds`, then each group's outline with its feeds inside."""
    root = ET.Element("opml", version="2.0")
    head = ET.SubElement(root, "head")
    ET.SubElement(head, "title").text = title
    if date_created is not None:
        # OPML 2.0 wants RFC 822 dates, like RSS.
        ET.SubElement(head, "dateCreated").text = format_datetime(date_created)
    if owner_url:
        ET.SubElement(head, "ownerId").text = owner_url
    body = ET.SubElement(root, "body")
    _add_feeds(body, feeds)
    for group_title, group_feeds in groups:
        folder = ET.SubElement(body, "outline", text=group_title, title=group_title)
        _add_feeds(folder, group_feeds)
    ET.indent(root)
    document: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return document + b"\n"


def _add_feeds(parent: ET.Element, feeds: Sequence[FeedRef]) -> None:
    for feed_title, xml_url, html_url in feeds:
        ET.SubElement(
            parent,
            "outline",
            type="rss",
            text=feed_title,
            title=feed_title,
            xmlUrl=xml_url,
            htmlUrl=html_url,
        )
