"""Lessons: a path through the course, each a preset, the page to open it on, and what to try there."""

LESSONS = [
    {"title": "1 · One neuron draws a line", "preset": "gauss-mlp", "page": "pages/playground2d.py",
     "text": "A single Linear layer is logistic regression: its boundary is a straight line. Press Play, then "
             "switch the data to circle — no line can separate it."},
    {"title": "2 · Hidden layers bend the boundary", "preset": "circle-mlp", "page": "pages/playground2d.py",
     "text": "Four tanh neurons each draw a line; the output neuron combines them into a closed curve. Watch "
             "each neuron's map, then remove the hidden layer with − and see it fail."},
    {"title": "3 · Depth and activations", "preset": "spiral-mlp", "page": "pages/playground2d.py",
     "text": "Spirals need two hidden layers. Change the activation to ReLU or Sigmoid and compare how fast "
             "and how cleanly each learns; add the x1², sin features and see how little depth is then needed."},
    {"title": "4 · Optimizers race", "preset": "moons-mlp", "page": "pages/train.py",
     "text": "Open A/B under the chart, change the optimizer to SGD and train both in lock-step: same data, "
             "same start, one difference."},
    {"title": "5 · Convolutions read images", "preset": "digits-cnn", "page": "pages/build.py",
     "text": "Two Conv2d + MaxPool blocks, then Flatten and Linear. Watch the output shapes shrink; delete "
             "Flatten and read the error (one click fixes it). Then train it."},
    {"title": "6 · Memory over time", "preset": "sine-lstm", "page": "pages/train.py",
     "text": "An LSTM reads 24 past values and forecasts the next; the predicted-vs-true plot at the end "
             "shows how close it gets."},
    {"title": "7 · Words in order", "preset": "sentiment-gru", "page": "pages/train.py",
     "text": "A GRU reads a review word by word and learns that 'not good' is negative. Compare with the "
             "Transformer preset, which needs positions to tell word order."},
    {"title": "8 · Learning without labels", "preset": "digits-autoencoder", "page": "pages/train.py",
     "text": "The network must squeeze each digit through 8 numbers and rebuild it: no labels, just the "
             "reconstruction error."},
]
