"""Rule-based spaCy fact extraction: free text in, the contract's facts and their evidence out.

    extractor = build_extractor(config)          # once, at start-up (a few seconds)
    result = extractor.extract(text, known=None)  # pure; safe from many threads
    result == {"facts": {"caller": "family_friend", "fallen": True, ...},
               "evidence": [{"fact", "value", "text", "start", "end", "rule", "negated"}, ...],
               "ignored": [{"text", "start", "end", "rule", "facts", "reasons"}, ...],
               "partial": ["long_term_conditions", ...]}   # list facts heard in passing

`facts` uses only contact.schema.json fact ids and values (arrays as lists); a fact not
mentioned is absent, never null. Facts are the person's: the caller's own age, injury or
feelings ("I'm 79 and I hurt my back lifting him") and a named carer's ("dad's her carer and he
is 79") are set aside. `known` (the conversation's facts so far) lets a phrase
that needs context count ("just a bruise" is a fall injury once a fall is known).
`ExtractionError` for text that is not a string or is over 20000 characters.

A blank English spaCy pipeline (no downloaded weights) with phrase and token patterns kept as
data in `patterns/*.yml`, negspacy's NegEx, and a ConText-style component for hypothetical,
advice-seeking, historical, uncertain and other-person mentions (`patterns/context.yml`).
Red flags and safeguarding facts are decided by these rules, not by a trained model.
"""
from spoa.extraction.extractor import ExtractionError, Extractor, build_extractor
from spoa.extraction.patterns_file import PatternError, load_patterns

__all__ = ["ExtractionError", "Extractor", "PatternError", "build_extractor", "load_patterns"]
