"""``.dockerignore`` matching as the Docker builder does it, through docker-py's port of moby's
patternmatcher (``docker.utils.build.PatternMatcher``): ``*``/``?`` stay within one path segment,
``**`` spans any number of them, ``!`` re-includes, the last matching pattern wins, and a pattern that
matches a folder excludes everything inside it. One difference from the Linux builder: docker-py
compares lower-cased names, so an upper-case pattern (``.ENV``) also hides ``.env``; that can only
credit a pattern no one writes, never fail a correct one.
"""

from __future__ import annotations

from dataclasses import dataclass

from docker.utils.build import PatternMatcher


@dataclass(frozen=True)
class DockerIgnore:
    matcher: PatternMatcher

    @classmethod
    def parse(cls, text: str) -> DockerIgnore:
        # The file format as moby's ignorefile.ReadAll reads it: '#' starts a comment line.
        lines = (line.strip() for line in text.splitlines())
        return cls(PatternMatcher([line for line in lines if line and not line.startswith("#")]))

    def excludes(self, path: str) -> bool:
        """Whether ``path`` (relative to the context root) is left out of the build context."""
        return bool(self.matcher.matches(path.strip("/")))
