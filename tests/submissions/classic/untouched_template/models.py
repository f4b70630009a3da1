## TODO: define the convolutional neural network architecture

import torch
import torch.nn as nn
import torch.nn.functional as F
# for initialising the weights of your Net, if you want to
import torch.nn.init as I


class Net(nn.Module):

    def __init__(self):
        super(Net, self).__init__()

        ## TODO: define the layers of this CNN. What it must do:
        ## 1. take a square grayscale image as input (1 x 224 x 224)
        ## 2. end with a linear layer with 136 outputs: an (x, y) pair for each of the 68 keypoints

        # A first layer to start from (keep it or change it): 1 input channel (grayscale),
        # 32 output channels (feature maps), a 5x5 convolution kernel
        self.conv1 = nn.Conv2d(1, 32, 5)

        ## Note that other layers (max pooling, dropout, batch normalization) help against overfitting
