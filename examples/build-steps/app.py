from pathlib import Path

print(Path("/opt/six-version").read_text().strip())
