"""`harvester news`: what changed in the catalog since a moment, or since this reader last
looked, as a digest a person reads in ten seconds. The same digest is the body of email digests
and a page of the web view.

- `since`: reading `--since` (a duration, an ISO date or time, or `last`);
- `items`: the events of a window, each with its product or expected observation;
- `digest`: grouping them (new products by archive and instrument, embargoes ended, the release
  watch's overdue and cleared observations, sources silent or failing);
- `render`: the digest as text, Markdown, JSON or HTML;
- `readers`: what each reader last saw (table `news_readers`);
- `service`: the whole look, from a catalog path to a digest.
"""
