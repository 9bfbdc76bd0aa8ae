def train_step() -> None:
    print("trained")
