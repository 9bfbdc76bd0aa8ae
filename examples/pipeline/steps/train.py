"""A small feed-forward churn classifier."""

import os

import pandas as pd
import torch
from torch import nn

FEATURES = ["tenure_months", "monthly_charges", "support_calls"]


def train_classifier(frame: pd.DataFrame) -> nn.Module:
    x = torch.tensor(frame[FEATURES].to_numpy(), dtype=torch.float32)
    y = torch.tensor(frame["churned"].to_numpy(), dtype=torch.float32).unsqueeze(1)
    model = nn.Sequential(nn.Linear(len(FEATURES), 16), nn.ReLU(), nn.Linear(16, 1))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    loss_fn = nn.BCEWithLogitsLoss()
    for _ in range(int(os.environ.get("CHURN_EPOCHS", "20"))):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    print(f"final loss: {loss.item():.4f}")
    return model
