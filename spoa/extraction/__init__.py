"""Rule-based spaCy fact extraction: `build_extractor(config).extract(text)`.

A blank English spaCy pipeline (no downloaded weights) with phrase and token patterns kept as
data in `patterns/*.yml`, negspacy's NegEx, and a ConText-style component for hypothetical,
historical, uncertain and other-person mentions. See extractor.py for the output.
"""
from spoa.extraction.extractor import ExtractionError, Extractor, build_extractor
from spoa.extraction.patterns_file import PatternError, load_patterns

__all__ = ["ExtractionError", "Extractor", "PatternError", "build_extractor", "load_patterns"]
