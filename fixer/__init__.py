"""The dockerfix engine: document model, edits, pipeline, context, registry client, reports, CLI."""
