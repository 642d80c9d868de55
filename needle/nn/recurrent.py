"""Recurrent layers: RNNCell, RNN, LSTMCell, LSTM, GRUCell, GRU (time-major input)."""
__all__ = []
